// @OnSignal on static methods of sequelize-typescript models: events and options are checked, payloads typed.
import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { OnSignal, Priority, changed, type Signal } from '../../lib';

@Table({ tableName: 'types_ledgers' })
export class Ledger extends Model {
  @Column({ type: DataType.INTEGER })
  declare cents: number;

  @OnSignal('afterUpdate')
  static onUpdate(this: typeof Ledger, signal: Signal<Ledger, 'afterUpdate'>): number {
    const first: number | undefined = signal.newRecords[0]?.cents;
    return first ?? this.name.length;
  }

  @OnSignal('afterCreate', { priority: Priority.HIGH, onCommit: true, when: changed('cents'), name: 'created' })
  static async onCreate(signal: Signal<Ledger, 'afterCreate'>): Promise<void> {
    await Promise.resolve(signal.newRecords.length);
  }

  // @ts-expect-error -- not an event
  @OnSignal('afterUpdte')
  static misspelt(): void {}

  // @ts-expect-error -- onCommit is for after events only
  @OnSignal('beforeUpdate', { onCommit: true })
  static tooLate(): void {}

  // @ts-expect-error -- the payload of afterUpdate is not a create signal
  @OnSignal('afterUpdate')
  static wrongPayload(signal: Signal<Ledger, 'afterCreate'>): void {
    void signal;
  }
}
