// A CPU-bound process for the benchmark to run beside the app: it spins until it is killed.
for (;;) {
  // Busy on purpose: one core's worth of competition for the app and the fake connector.
}
