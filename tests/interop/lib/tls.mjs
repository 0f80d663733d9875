// A self-signed certificate for 127.0.0.1 and localhost, made with openssl in a temporary folder
// that the test removes when it ends.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Returns the PEM files' paths and the certificate, for the client's `ca` option. */
export function selfSigned(t) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ignis-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { cert, key, ca: readFileSync(cert) };
}
