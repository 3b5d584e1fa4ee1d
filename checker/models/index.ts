// The model registry: one fresh model instance per key.
import { createCounterModel, createQueueModel, createSetModel } from './collections.js';
import { createKvModel } from './kv.js';
import { createRegisterModel } from './register.js';
import type { Model, ModelName } from './types.js';

export * from './types.js';

export function createModel(name: ModelName): Model<unknown> {
  switch (name) {
    case 'register':
      return createRegisterModel(false) as Model<unknown>;
    case 'cas-register':
      return createRegisterModel(true) as Model<unknown>;
    case 'kv':
      return createKvModel();
    case 'set':
      return createSetModel() as Model<unknown>;
    case 'counter':
      return createCounterModel() as Model<unknown>;
    case 'queue':
      return createQueueModel() as Model<unknown>;
    default: {
      const unknownName: never = name;
      throw new Error(`unknown model ${String(unknownName)}`);
    }
  }
}
