/**
 * A small in-memory DynamoDB (JSON 1.0), for the benchmark's fake AWS endpoint (bench/fake-aws.ts)
 * and the chaos tests' state table (tests/support/chaos/state-fakes.ts): GetItem, PutItem
 * and UpdateItem on hash-key tables, with the expression subset a state table needs —
 * conditions with attribute_exists / attribute_not_exists, = <> < <= > >=, AND / OR / NOT and
 * parentheses; updates with SET a = :v, … and REMOVE a, …; #name placeholders. Unsupported syntax
 * is an error (ValidationException), never silently accepted.
 */
export type AttributeValue = { S: string } | { N: string } | { BOOL: boolean };
export type Item = Record<string, AttributeValue>;

export class DynamoDbError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

interface Request {
  TableName: string;
  Key?: Item;
  Item?: Item;
  ConditionExpression?: string;
  UpdateExpression?: string;
  ExpressionAttributeValues?: Item;
  ExpressionAttributeNames?: Record<string, string>;
}

export class FakeDynamoDb {
  /** table → hash key value (JSON of the key) → item */
  private readonly tables = new Map<string, Map<string, Item>>();

  handle(operation: string, request: Request): object {
    const table = this.table(request.TableName);
    switch (operation) {
      case 'GetItem': {
        const item = table.get(keyOf(request.Key));
        return item ? { Item: item } : {};
      }
      case 'PutItem': {
        const item = request.Item ?? invalid('PutItem without Item');
        const id = keyOf(hashKey(item));
        this.check(table.get(id), request);
        table.set(id, { ...item });
        return {};
      }
      case 'UpdateItem': {
        const id = keyOf(request.Key);
        const current = table.get(id);
        this.check(current, request);
        table.set(id, applyUpdate({ ...(current ?? request.Key!) }, request));
        return {};
      }
      default:
        return invalid(`unsupported operation ${operation}`);
    }
  }

  items(tableName: string): Item[] {
    return [...this.table(tableName).values()];
  }

  private table(name: string): Map<string, Item> {
    let table = this.tables.get(name);
    if (!table) this.tables.set(name, (table = new Map()));
    return table;
  }

  private check(item: Item | undefined, request: Request): void {
    if (!request.ConditionExpression) return;
    const parser = new Parser(request.ConditionExpression, request);
    if (!parser.condition(item ?? {})) throw new DynamoDbError('ConditionalCheckFailedException', 'The conditional request failed');
  }
}

/** Tables are keyed by the attribute `pk` (the state table's hash key). */
function hashKey(item: Item): Item {
  const pk = item.pk ?? invalid('the item has no pk');
  return { pk };
}

function keyOf(key: Item | undefined): string {
  return JSON.stringify((key ?? invalid('no Key')).pk ?? invalid('the key has no pk'));
}

function invalid(message: string): never {
  throw new DynamoDbError('ValidationException', message);
}

function applyUpdate(item: Item, request: Request): Item {
  const expression = request.UpdateExpression ?? invalid('UpdateItem without UpdateExpression');
  const parser = new Parser(expression, request);
  parser.update(item);
  return item;
}

const TOKEN = /\s*(attribute_not_exists|attribute_exists|AND|OR|NOT|SET|REMOVE|<=|>=|<>|[=<>(),]|[:#]?[A-Za-z_][A-Za-z0-9_]*)/y;

/** Recursive descent over one expression. */
class Parser {
  private readonly tokens: string[] = [];
  private at = 0;

  constructor(
    private readonly source: string,
    private readonly request: Request,
  ) {
    TOKEN.lastIndex = 0;
    let match: RegExpExecArray | null;
    while (TOKEN.lastIndex < source.trimEnd().length && (match = TOKEN.exec(source))) this.tokens.push(match[1]!);
    if (TOKEN.lastIndex < source.trimEnd().length) invalid(`cannot parse expression at ${JSON.stringify(source.slice(TOKEN.lastIndex))}`);
  }

  condition(item: Item): boolean {
    const result = this.or(item);
    this.end();
    return result;
  }

  update(item: Item): void {
    while (this.peek() !== undefined) {
      const clause = this.next();
      if (clause === 'SET') {
        do {
          const name = this.name();
          this.expect('=');
          item[name] = this.value(this.next());
        } while (this.accept(','));
      } else if (clause === 'REMOVE') {
        do delete item[this.name()];
        while (this.accept(','));
      } else invalid(`unsupported update clause ${clause}`);
    }
  }

  private or(item: Item): boolean {
    let result = this.and(item);
    while (this.accept('OR')) result = this.and(item) || result;
    return result;
  }

  private and(item: Item): boolean {
    let result = this.unary(item);
    while (this.accept('AND')) result = this.unary(item) && result;
    return result;
  }

  private unary(item: Item): boolean {
    if (this.accept('NOT')) return !this.unary(item);
    if (this.accept('(')) {
      const result = this.or(item);
      this.expect(')');
      return result;
    }
    const token = this.peek();
    if (token === 'attribute_exists' || token === 'attribute_not_exists') {
      this.next();
      this.expect('(');
      const present = item[this.name()] !== undefined;
      this.expect(')');
      return token === 'attribute_exists' ? present : !present;
    }
    const left = item[this.name()];
    const operator = this.next();
    const right = this.value(this.next());
    return compare(left, operator, right);
  }

  private name(): string {
    const token = this.next();
    if (token.startsWith('#')) return this.request.ExpressionAttributeNames?.[token] ?? invalid(`undefined name ${token}`);
    if (!/^[A-Za-z_]/.test(token)) invalid(`expected an attribute name, got ${token}`);
    return token;
  }

  private value(token: string): AttributeValue {
    if (!token.startsWith(':')) invalid(`expected a :value, got ${token}`);
    return this.request.ExpressionAttributeValues?.[token] ?? invalid(`undefined value ${token}`);
  }

  private peek(): string | undefined {
    return this.tokens[this.at];
  }

  private next(): string {
    return this.tokens[this.at++] ?? invalid(`unexpected end of ${JSON.stringify(this.source)}`);
  }

  private accept(token: string): boolean {
    if (this.peek() !== token) return false;
    this.at++;
    return true;
  }

  private expect(token: string): void {
    if (!this.accept(token)) invalid(`expected ${token} in ${JSON.stringify(this.source)}`);
  }

  private end(): void {
    if (this.peek() !== undefined) invalid(`unexpected ${this.peek()} in ${JSON.stringify(this.source)}`);
  }
}

function compare(left: AttributeValue | undefined, operator: string, right: AttributeValue): boolean {
  if (left === undefined) return operator === '<>';
  const a = scalar(left);
  const b = scalar(right);
  if (typeof a !== typeof b) return operator === '<>';
  switch (operator) {
    case '=':
      return a === b;
    case '<>':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      return invalid(`unsupported comparison ${operator}`);
  }
}

function scalar(value: AttributeValue): string | number | boolean {
  if ('N' in value) return Number(value.N);
  if ('S' in value) return value.S;
  return value.BOOL;
}
