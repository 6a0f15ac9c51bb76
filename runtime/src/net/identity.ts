// A peer's identity is an Ed25519 key kept in a file (base64 of the libp2p protobuf encoding).
// The file is created with mode 0600 because whoever reads it can act as this peer.
import { readFile, stat } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { PeerqueueError, errorMessage } from '../errors.js'
import { writeFileDurably } from '../fs/durable-file.js'

export interface Identity {
  readonly privateKey: PrivateKey
  readonly peerId: string
}

export async function createKeyFile(path: string): Promise<Identity> {
  const privateKey = await generateKeyPair('Ed25519')
  const text = Buffer.from(privateKeyToProtobuf(privateKey)).toString('base64') + '\n'
  try {
    // Exclusive: an existing key is never replaced. A key cut short by a full disk is removed.
    await writeFileDurably(path, text, { exclusive: true, mode: 0o600 })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new PeerqueueError('E_KEY_EXISTS', `${path} already exists; refusing to overwrite a key`)
    throw new PeerqueueError('E_KEY_INVALID', `cannot create key file ${path}: ${errorMessage(err)}`)
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
}

export interface ReadKeyOptions {
  /** Accept a key file that others may read (for example on a filesystem without permissions). */
  readonly allowInsecure?: boolean
}

export async function readKeyFile(path: string, options: ReadKeyOptions = {}): Promise<Identity> {
  let text: string
  try {
    if (!options.allowInsecure) await refuseShared(path)
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (err instanceof PeerqueueError) throw err
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new PeerqueueError('E_KEY_MISSING', `key file ${path} does not exist (create one with: queue-runtime keygen --out ${path})`)
    }
    throw new PeerqueueError('E_KEY_MISSING', `cannot read key file ${path}: ${errorMessage(err)}`)
  }
  try {
    const privateKey = privateKeyFromProtobuf(Buffer.from(text.trim(), 'base64'))
    if (privateKey.type !== 'Ed25519') throw new Error(`a ${privateKey.type} key, expected Ed25519`)
    return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
  } catch (err) {
    throw new PeerqueueError('E_KEY_INVALID', `${path} is not a peerqueue key file: ${errorMessage(err)}`)
  }
}

export async function keyFileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/** Whoever can read a key can act as its peer, so a key others can read is refused. */
async function refuseShared(path: string): Promise<void> {
  const mode = (await stat(path)).mode & 0o777
  if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
    throw new PeerqueueError(
      'E_KEY_INSECURE',
      `key file ${path} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path} (or pass --allow-insecure-key)`,
    )
  }
}
