/**
 * A small in-memory DynamoDB (JSON 1.0), for the benchmark's fake AWS endpoint (bench/fake-aws.ts)
 * and the chaos tests' state table (tests/support/chaos/state-fakes.ts): GetItem, PutItem
 * and UpdateItem on hash-key tables, TransactWriteItems (ConditionCheck, Put, Update; all or
 * nothing, with DynamoDB's CancellationReasons) and TransactGetItems, with the expression subset a
 * state table needs — conditions with attribute_exists / attribute_not_exists, = <> < <= > >=,
 * AND / OR / NOT and parentheses; updates with SET a = :v, … and REMOVE a, …; #name
 * placeholders; ReturnValues ALL_OLD and ReturnValuesOnConditionCheckFailure ALL_OLD. Unsupported
 * syntax is an error (ValidationException), never silently accepted.
 */
export type AttributeValue = { S: string } | { N: string } | { BOOL: boolean };
export type Item = Record<string, AttributeValue>;

/**
 * An error as DynamoDB answers it; `details` are the body's other fields: the failed item (`Item`,
 * with ReturnValuesOnConditionCheckFailure) or a transaction's `CancellationReasons`.
 */
export class DynamoDbError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** One entry of a cancelled transaction's CancellationReasons, in request order. */
export interface CancellationReason {
  Code: string;
  Message?: string;
  Item?: Item;
}

interface Request {
  TableName: string;
  Key?: Item;
  Item?: Item;
  ConditionExpression?: string;
  UpdateExpression?: string;
  ExpressionAttributeValues?: Item;
  ExpressionAttributeNames?: Record<string, string>;
  ReturnValues?: string;
  ReturnValuesOnConditionCheckFailure?: string;
  ConsistentRead?: boolean;
}

type TransactWrite = { ConditionCheck?: Request; Put?: Request; Update?: Request };

export class FakeDynamoDb {
  /** table → hash key value (JSON of the key) → item */
  private readonly tables = new Map<string, Map<string, Item>>();

  handle(operation: string, request: Request & { TransactItems?: unknown[] }): object {
    if (operation === 'TransactWriteItems') return this.transactWrite((request.TransactItems ?? invalid('no TransactItems')) as TransactWrite[]);
    if (operation === 'TransactGetItems') return this.transactGet((request.TransactItems ?? invalid('no TransactItems')) as { Get: Request }[]);
    const table = this.table(request.TableName);
    switch (operation) {
      case 'GetItem': {
        const item = table.get(keyOf(request.Key));
        return item ? { Item: item } : {};
      }
      case 'PutItem': {
        const item = request.Item ?? invalid('PutItem without Item');
        const id = keyOf(hashKey(item));
        const old = table.get(id);
        this.check(old, request);
        table.set(id, { ...item });
        return returned(old, request);
      }
      case 'UpdateItem': {
        const id = keyOf(request.Key);
        const current = table.get(id);
        this.check(current, request);
        table.set(id, applyUpdate({ ...(current ?? request.Key!) }, request));
        return returned(current, request);
      }
      default:
        return invalid(`unsupported operation ${operation}`);
    }
  }

  /** All conditions are evaluated first; any failure cancels every write, with a reason per item. */
  private transactWrite(items: TransactWrite[]): object {
    if (items.length === 0 || items.length > 100) invalid('TransactItems must hold 1 to 100 items');
    const ops = items.map((entry) => {
      const kinds = Object.keys(entry) as (keyof TransactWrite)[];
      if (kinds.length !== 1 || !['ConditionCheck', 'Put', 'Update'].includes(kinds[0]!)) invalid(`unsupported transaction item ${JSON.stringify(kinds)}`);
      const kind = kinds[0]!;
      const request = entry[kind]!;
      const id = keyOf(kind === 'Put' ? hashKey(request.Item ?? invalid('Put without Item')) : request.Key);
      return { kind, request, table: this.table(request.TableName), id };
    });
    if (new Set(ops.map((op) => `${op.request.TableName}\u0000${op.id}`)).size !== ops.length) {
      invalid('Transaction request cannot include multiple operations on one item');
    }
    const reasons: CancellationReason[] = ops.map(({ request, table, id }) => {
      const current = table.get(id);
      if (!request.ConditionExpression || new Parser(request.ConditionExpression, request).condition(current ?? {})) return { Code: 'None' };
      return { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...(request.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && current ? { Item: current } : {}) };
    });
    if (reasons.some((reason) => reason.Code !== 'None')) {
      throw new DynamoDbError('TransactionCanceledException', `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`, { CancellationReasons: reasons });
    }
    for (const { kind, request, table, id } of ops) {
      if (kind === 'Put') table.set(id, { ...request.Item! });
      if (kind === 'Update') table.set(id, applyUpdate({ ...(table.get(id) ?? request.Key!) }, request));
    }
    return {};
  }

  private transactGet(items: { Get: Request }[]): object {
    return { Responses: items.map(({ Get }) => {
      const item = this.table(Get.TableName).get(keyOf(Get.Key));
      return item ? { Item: item } : {};
    }) };
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
    if (parser.condition(item ?? {})) return;
    const old = request.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && item ? { Item: item } : {};
    throw new DynamoDbError('ConditionalCheckFailedException', 'The conditional request failed', old);
  }
}

/** ReturnValues ALL_OLD: the item as it was before the write. */
function returned(old: Item | undefined, request: Request): object {
  return request.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
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
