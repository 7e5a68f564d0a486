import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type ModelAttributes,
  type Sequelize,
} from 'sequelize';
import { inherit } from '../../lib';
import { dateType } from './models';

/** The root of the chains: a place. */
export class Place extends Model<InferAttributes<Place>, InferCreationAttributes<Place>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare address: string | null;
  declare rating: CreationOptional<number>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

/** A place that is a restaurant (`inherit(Restaurant, Place)`): every attribute of Place and its own. */
export class Restaurant extends Model<InferAttributes<Restaurant>, InferCreationAttributes<Restaurant>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare address: string | null;
  declare rating: CreationOptional<number>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
  declare servesPizza: CreationOptional<boolean>;
  declare seats: CreationOptional<number>;
}

/** Three levels: a restaurant that is a pizzeria. */
export class Pizzeria extends Model<InferAttributes<Pizzeria>, InferCreationAttributes<Pizzeria>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare address: string | null;
  declare rating: CreationOptional<number>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
  declare servesPizza: CreationOptional<boolean>;
  declare seats: CreationOptional<number>;
  declare crust: string | null;
}

/** A soft-deleting root and its child: the child is paranoid through its parent's `deletedAt`. */
export class Vehicle extends Model<InferAttributes<Vehicle>, InferCreationAttributes<Vehicle>> {
  declare id: CreationOptional<number>;
  declare plate: string;
  declare deletedAt: CreationOptional<Date | null>;
}

export class Car extends Model<InferAttributes<Car>, InferCreationAttributes<Car>> {
  declare id: CreationOptional<number>;
  declare plate: string;
  declare deletedAt: CreationOptional<Date | null>;
  declare doors: number;
}

/** A child model's own attributes, typed for `init` (which asks for every attribute the class declares). */
function ownAttributes(attributes: ModelAttributes): never {
  return attributes as never;
}

/** Defines the chains Place → Restaurant → Pizzeria and Vehicle → Car, tables prefixed. */
export function defineInheritance(sequelize: Sequelize, prefix: string) {
  Place.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING, allowNull: false, validate: { notEmpty: true } },
      address: { type: DataTypes.STRING, allowNull: true },
      rating: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      createdAt: dateType(),
      updatedAt: dateType(),
    },
    { sequelize, tableName: `${prefix}_places`, modelName: 'Place' },
  );
  // A child class declares every attribute of its chain (for its type) and defines its own: Sequelize's typing of
  // init asks for all of them, hence `ownAttributes`.
  Restaurant.init(
    ownAttributes({
      servesPizza: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      seats: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 10 },
    }),
    { sequelize, tableName: `${prefix}_restaurants`, modelName: 'Restaurant' },
  );
  Pizzeria.init(ownAttributes({ crust: { type: DataTypes.STRING, allowNull: true } }), {
    sequelize,
    tableName: `${prefix}_pizzerias`,
    modelName: 'Pizzeria',
  });
  inherit(Restaurant, Place);
  inherit(Pizzeria, Restaurant);

  Vehicle.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      plate: { type: DataTypes.STRING, allowNull: false },
      deletedAt: dateType(),
    },
    { sequelize, tableName: `${prefix}_vehicles`, modelName: 'Vehicle', paranoid: true, createdAt: false, updatedAt: false },
  );
  Car.init(ownAttributes({ doors: { type: DataTypes.INTEGER, allowNull: false } }), {
    sequelize,
    tableName: `${prefix}_cars`,
    modelName: 'Car',
    timestamps: false,
  });
  inherit(Car, Vehicle);
  return { Place, Restaurant, Pizzeria, Vehicle, Car };
}

/** The attributes most specs compare (no timestamps). */
export const PLACE = ['id', 'name', 'address', 'rating'] as const;
export const RESTAURANT = [...PLACE, 'servesPizza', 'seats'] as const;
export const PIZZERIA = [...RESTAURANT, 'crust'] as const;
