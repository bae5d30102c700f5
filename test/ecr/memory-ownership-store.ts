import {
  parseRecord,
  serializeRecord,
  type OwnershipRecord,
  type OwnershipStore,
} from '../../src/ecr/ownership.js';

/** Keeps the record as serialized text, like the SSM parameter, so every load parses what was saved. */
export class MemoryOwnershipStore implements OwnershipStore {
  text: string | undefined;
  saves = 0;
  /** When set, saves throw this message. */
  failSave: string | undefined;

  constructor(initial?: OwnershipRecord) {
    if (initial) this.text = serializeRecord(initial);
  }

  load(): Promise<OwnershipRecord | undefined> {
    return Promise.resolve(this.text === undefined ? undefined : parseRecord(this.text, 'memory'));
  }

  save(record: OwnershipRecord): Promise<void> {
    if (this.failSave !== undefined) return Promise.reject(new Error(this.failSave));
    this.saves += 1;
    this.text = serializeRecord(record);
    return Promise.resolve();
  }

  remove(): Promise<void> {
    this.text = undefined;
    return Promise.resolve();
  }

  /** The stored record (throws if none). */
  get record(): OwnershipRecord {
    if (this.text === undefined) throw new Error('no record stored');
    return parseRecord(this.text, 'memory');
  }
}
