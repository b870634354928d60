/**
 * OpenSSH public keys: parsed and checked before a ticket is opened for one, and their
 * SHA256 fingerprint (as `ssh-keygen -lf` prints it).
 */
import * as crypto from 'node:crypto';
import { InvalidInputError } from './errors';

export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

export interface PublicKey {
  type: string;
  /** The key as one line: type, base64, comment. */
  key: string;
  comment: string;
  fingerprint: string;
}

export function parsePublicKey(text: string): PublicKey {
  const line = text.trim();
  if (line.includes('PRIVATE KEY')) throw new InvalidInputError('this is a private key: give the public one (the .pub file)');
  if (line.split('\n').length > 1) throw new InvalidInputError('an SSH public key is one line: "<type> <base64> [comment]"');
  const [type, data, ...rest] = line.split(/\s+/);
  if (!type || !data) throw new InvalidInputError('not an OpenSSH public key: expected "<type> <base64> [comment]"');
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
    throw new InvalidInputError(`unsupported key type ${JSON.stringify(type.slice(0, 40))}; supported: ${SSH_KEY_TYPES.join(', ')}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new InvalidInputError('the key data is not base64');
  const blob = Buffer.from(data, 'base64');
  // The blob starts with the key type again, as a length-prefixed string.
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (len <= 0 || 4 + len > blob.length || blob.subarray(4, 4 + len).toString('latin1') !== type) {
    throw new InvalidInputError(`the key data does not hold a ${type} key`);
  }
  if (type === 'ssh-rsa' && blob.length < 250) throw new InvalidInputError('RSA keys shorter than 2048 bits are refused');
  const fingerprint = `SHA256:${crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  const comment = rest.join(' ').slice(0, 200);
  return { type, key: [type, data, comment].filter(Boolean).join(' '), comment, fingerprint };
}
