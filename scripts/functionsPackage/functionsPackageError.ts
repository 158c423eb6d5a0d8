/** A deployment package that cannot be built, for a reason the message states. */
export class FunctionsPackageError extends Error {
  override readonly name = 'FunctionsPackageError';
}
