import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** A self-signed certificate for 127.0.0.1 in `dir` (openssl, as on every Debian machine), for https test servers such as Azurite's `--oauth` mode. */
export function makeCertificate(dir: string): { certPath: string; keyPath: string } {
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyPath, '-out', certPath,
  ], { stdio: 'ignore' });
  return { certPath, keyPath };
}
