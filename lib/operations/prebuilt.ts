import type { Model, ModelStatic } from 'sequelize';

/**
 * A one-call subclass whose `build` hands Sequelize the instances receivers already saw (and may have
 * edited), so bulkCreate inserts exactly those — without running attribute setters a second time.
 */
export function prebuilt(model: ModelStatic<Model>, instances: readonly Model[]): ModelStatic<Model> {
  const known = new Set<unknown>(instances);
  const Prebuilt = class extends (model as unknown as new (...args: never[]) => Model) {} as unknown as ModelStatic<Model>;
  Object.defineProperty(Prebuilt, 'name', { value: model.name });
  Object.defineProperty(Prebuilt, 'build', {
    value(this: ModelStatic<Model>, values: unknown, options: unknown) {
      return known.has(values) ? values : model.build.call(this, values as never, options as never);
    },
  });
  return Prebuilt;
}

