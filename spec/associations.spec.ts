import { expect } from 'chai';
import { DataTypes, Model, type Sequelize } from 'sequelize';
import { bulkSignals } from '../lib';
import { onDialect, perDialect, resetTables, useDatabase } from './support/database';
import { Recorder } from './support/recorder';

class Author extends Model {
  declare id: number;
  declare name: string;
  [k: string]: any;
}
class Book extends Model {
  declare id: number;
  declare title: string;
  declare authorId: number | null;
  [k: string]: any;
}
class Student extends Model {
  declare id: number;
  declare name: string;
  [k: string]: any;
}
class Course extends Model {
  declare id: number;
  declare title: string;
}
class Enrollment extends Model {
  declare studentId: number;
  declare courseId: number;
  declare grade: string | null;
}
class User extends Model {
  declare id: number;
  [k: string]: any;
}
class Profile extends Model {
  declare id: number;
  declare userId: number | null;
}

function define(sequelize: Sequelize, p: string): void {
  const id = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
  Author.init({ id, name: DataTypes.STRING }, { sequelize, tableName: `${p}_authors`, timestamps: false });
  Book.init({ id, title: DataTypes.STRING }, { sequelize, tableName: `${p}_books`, timestamps: false });
  Student.init({ id, name: DataTypes.STRING }, { sequelize, tableName: `${p}_students`, timestamps: false });
  Course.init({ id, title: DataTypes.STRING }, { sequelize, tableName: `${p}_courses`, timestamps: false });
  Enrollment.init({ grade: DataTypes.STRING }, { sequelize, tableName: `${p}_enrollments`, timestamps: false });
  User.init({ id }, { sequelize, tableName: `${p}_users`, timestamps: false });
  Profile.init({ id }, { sequelize, tableName: `${p}_profiles`, timestamps: false });
  Author.hasMany(Book, { foreignKey: 'authorId', onDelete: 'CASCADE', hooks: true });
  Book.belongsTo(Author, { foreignKey: 'authorId' });
  Student.belongsToMany(Course, { through: Enrollment, foreignKey: 'studentId', otherKey: 'courseId' });
  Course.belongsToMany(Student, { through: Enrollment, foreignKey: 'courseId', otherKey: 'studentId' });
  User.hasOne(Profile, { foreignKey: 'userId' });
}

describe('association mutators signal on the model whose rows change', () => {
  const db = useDatabase('asc', define);
  let recorder: Recorder;
  let ann: Author;
  let bob: Author;

  beforeEach(async () => {
    await resetTables(Enrollment, Book, Author, Student, Course, Profile, User);
    [ann, bob] = (await Author.bulkCreate([{ name: 'ann' }, { name: 'bob' }])) as [Author, Author];
    await Book.bulkCreate([
      { title: 'b1', authorId: ann.id },
      { title: 'b2', authorId: null },
      { title: 'b3', authorId: bob.id },
    ]);
    await Student.bulkCreate([{ name: 's1' }]);
    await Course.bulkCreate([{ title: 'c1' }, { title: 'c2' }, { title: 'c3' }]);
    recorder = new Recorder([Author, Book, Student, Course, Enrollment, User, Profile], ['afterCreate', 'afterUpdate', 'afterDelete']);
  });
  afterEach(() => recorder.off());

  const after = (fields: string[]) => recorder.summary(fields).map((s) => [s.model, s.event, s.oldRecords, s.newRecords]);

  it("hasMany add / remove / set update the target rows' foreign key", async () => {
    await ann.addBook(2);
    expect(after(['id', 'authorId'])).to.deep.equal([['Book', 'afterUpdate', [{ id: 2, authorId: null }], [{ id: 2, authorId: 1 }]]]);
    recorder.clear();
    await ann.removeBook(1);
    expect(after(['id', 'authorId'])).to.deep.equal([['Book', 'afterUpdate', [{ id: 1, authorId: 1 }], [{ id: 1, authorId: null }]]]);
    recorder.clear();
    await ann.setBooks([1, 3]);
    const signals = after(['id', 'authorId']);
    expect(signals).to.have.deep.members([
      ['Book', 'afterUpdate', [{ id: 2, authorId: 1 }], [{ id: 2, authorId: null }]],
      [
        'Book',
        'afterUpdate',
        [
          { id: 1, authorId: null },
          { id: 3, authorId: 2 },
        ],
        [
          { id: 1, authorId: 1 },
          { id: 3, authorId: 1 },
        ],
      ],
    ]);
    expect(signals).to.have.length(2);
  });

  it('belongsTo set saves the source row', async () => {
    const b2 = (await Book.findByPk(2))!;
    await b2.setAuthor(bob);
    expect(after(['id', 'authorId'])).to.deep.equal([['Book', 'afterUpdate', [{ id: 2, authorId: null }], [{ id: 2, authorId: 2 }]]]);
  });

  it('hasOne set moves the foreign key between target rows', async () => {
    const [u1] = await User.bulkCreate([{}], { bypassSignals: true });
    await Profile.bulkCreate([{ userId: u1!.id }, { userId: null }], { bypassSignals: true });
    await u1!.setProfile(2);
    expect(after(['id', 'userId'])).to.deep.equal([
      ['Profile', 'afterUpdate', [{ id: 1, userId: 1 }], [{ id: 1, userId: null }]],
      ['Profile', 'afterUpdate', [{ id: 2, userId: null }], [{ id: 2, userId: 1 }]],
    ]);
  });

  it('belongsToMany add / set / remove create, update and delete through-model rows', async () => {
    const student = (await Student.findByPk(1))!;
    await student.addCourses([1, 2], { through: { grade: 'B' } });
    expect(after(['studentId', 'courseId', 'grade'])).to.deep.equal([
      [
        'Enrollment',
        'afterCreate',
        [],
        [
          { studentId: 1, courseId: 1, grade: 'B' },
          { studentId: 1, courseId: 2, grade: 'B' },
        ],
      ],
    ]);
    recorder.clear();
    await student.setCourses([2, 3], { through: { grade: 'A' } });
    expect(after(['studentId', 'courseId', 'grade'])).to.have.deep.members([
      ['Enrollment', 'afterDelete', [{ studentId: 1, courseId: 1, grade: 'B' }], []],
      ['Enrollment', 'afterUpdate', [{ studentId: 1, courseId: 2, grade: 'B' }], [{ studentId: 1, courseId: 2, grade: 'A' }]],
      ['Enrollment', 'afterCreate', [], [{ studentId: 1, courseId: 3, grade: 'A' }]],
    ]);
    recorder.clear();
    await student.removeCourse(3);
    expect(after(['studentId', 'courseId', 'grade'])).to.deep.equal([
      ['Enrollment', 'afterDelete', [{ studentId: 1, courseId: 3, grade: 'A' }], []],
    ]);
  });

  it("Model.create with include signals the included rows too (Sequelize saves them one by one, inside the parent's write)", async () => {
    await Author.create({ name: 'cy', Books: [{ title: 'n1' }, { title: 'n2' }] }, { include: [Book] });
    const signals = after(['name', 'title', 'authorId']);
    // Sequelize saves the included rows concurrently (Promise.all): their two signals come in either order.
    const books = signals.slice(0, 2).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    expect([...books, signals[2]]).to.deep.equal([
      ['Book', 'afterCreate', [], [{ name: undefined, title: 'n1', authorId: 3 }]],
      ['Book', 'afterCreate', [], [{ name: undefined, title: 'n2', authorId: 3 }]],
      ['Author', 'afterCreate', [], [{ name: 'cy', title: undefined, authorId: undefined }]],
    ]);
    expect(signals).to.have.length(3);
  });

  it('bulkCreate with include signals the included rows and the through rows, each model in one dispatch', async () => {
    const authors = await Author.bulkCreate(
      [
        { name: 'cy', Books: [{ title: 'n1' }, { title: 'n2' }] },
        { name: 'di', Books: [{ title: 'n3' }] },
      ],
      { include: [Book] },
    );
    expect(after(['name', 'title', 'authorId'])).to.deep.equal([
      [
        'Author',
        'afterCreate',
        [],
        [
          { name: 'cy', title: undefined, authorId: undefined },
          { name: 'di', title: undefined, authorId: undefined },
        ],
      ],
      [
        'Book',
        'afterCreate',
        [],
        [
          { name: undefined, title: 'n1', authorId: 3 },
          { name: undefined, title: 'n2', authorId: 3 },
          { name: undefined, title: 'n3', authorId: 4 },
        ],
      ],
    ]);
    // What Sequelize returns is untouched: the included instances carry their database ids.
    expect(authors.map((a) => [a.name, a.Books.map((b: Book) => [b.id, b.title, b.authorId])])).to.deep.equal([
      [
        'cy',
        [
          [4, 'n1', 3],
          [5, 'n2', 3],
        ],
      ],
      ['di', [[6, 'n3', 4]]],
    ]);
    recorder.clear();
    await Student.bulkCreate([{ name: 's9', Courses: [{ title: 'c9' }] }], { include: [Course] });
    expect(after(['name', 'title', 'studentId', 'courseId'])).to.deep.equal([
      ['Student', 'afterCreate', [], [{ name: 's9', title: undefined, studentId: undefined, courseId: undefined }]],
      ['Course', 'afterCreate', [], [{ name: undefined, title: 'c9', studentId: undefined, courseId: undefined }]],
      ['Enrollment', 'afterCreate', [], [{ name: undefined, title: undefined, studentId: 2, courseId: 4 }]],
    ]);
  });

  it('bulkCreate of a model without receivers signals the included models that have them, whichever way include names them', async () => {
    recorder.off();
    const forms: unknown[] = [
      Book,
      'Books',
      { model: Book },
      { model: Book, as: 'Books' },
      { association: 'Books' },
      { association: Author.associations.Books },
    ];
    for (const [i, form] of forms.entries()) {
      recorder = new Recorder([Book], ['afterCreate']);
      await Author.bulkCreate([{ name: `a${i}`, Books: [{ title: `t${i}` }] }], { include: [form] } as never);
      expect(after(['title']), `include: [${String(i)}]`).to.deep.equal([['Book', 'afterCreate', [], [{ title: `t${i}` }]]]);
      recorder.off();
    }
    // Only the through model listens: the junction rows of the included targets are signalled.
    recorder = new Recorder([Enrollment], ['afterCreate']);
    const [student] = await Student.bulkCreate([{ name: 's8', Courses: [{ title: 'c8' }] }], { include: ['Courses'] });
    expect(after(['studentId'])).to.deep.equal([['Enrollment', 'afterCreate', [], [{ studentId: student!.id }]]]);
    recorder.off();
    // Nobody listens on anything included: Sequelize's own statements only, no transaction of ours.
    recorder = new Recorder([User], ['afterCreate']);
    const { connections } = await db.log.count(() => Author.bulkCreate([{ name: 'z', Books: [{ title: 'z1' }] }], { include: [Book] }));
    expect(connections).to.deep.equal(['default', 'default']);
    expect(after(['title'])).to.deep.equal([]);
  });

  it('bulkCreate with include writes what before receivers of the included model set', async () => {
    const off = bulkSignals.on(Book, 'beforeCreate', ({ newRecords }) => {
      for (const book of newRecords) book.title = `${book.title}!`;
    });
    try {
      const [author] = await Author.bulkCreate([{ name: 'cy', Books: [{ title: 'n1' }] }], { include: [Book] });
      // PostgreSQL's INSERT … RETURNING refreshes the instances Sequelize returns; elsewhere Sequelize only sets ids.
      if (onDialect('postgres')) expect(author!.Books.map((b: Book) => b.title)).to.deep.equal(['n1!']);
      expect((await Book.findAll({ where: { authorId: author!.id } })).map((b) => b.title)).to.deep.equal(['n1!']);
    } finally {
      off();
    }
  });

  it('onDelete: CASCADE, hooks: true — instance.destroy signals each child, then the parent', async () => {
    await Book.update({ authorId: ann.id }, { where: { id: 2 }, bypassSignals: true });
    await ann.destroy();
    expect(after(['id'])).to.deep.equal([
      ['Book', 'afterDelete', [{ id: 1 }], []],
      ['Book', 'afterDelete', [{ id: 2 }], []],
      ['Author', 'afterDelete', [{ id: 1 }], []],
    ]);
    expect((await Book.findAll()).map((b) => b.id)).to.deep.equal([3]);
  });

  it('onDelete: CASCADE, hooks: true — a where-destroy of parents signals all their children in one call', async () => {
    const { count } = await db.log.count(() => Author.destroy({ where: {} }));
    expect(after(['id'])).to.deep.equal([
      ['Book', 'afterDelete', [{ id: 1 }, { id: 3 }], []],
      ['Author', 'afterDelete', [{ id: 1 }, { id: 2 }], []],
    ]);
    expect(count).to.equal(
      perDialect({ postgres: 3, mariadb: 3, others: 4 }),
      'lock authors; the books go in one DELETE … RETURNING (after receivers only, PostgreSQL and MariaDB; elsewhere locked, then deleted); delete authors',
    );
  });
});
