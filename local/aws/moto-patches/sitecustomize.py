"""Loaded by moto_server (PYTHONPATH, local/aws/moto-server.ts): DynamoDB's item operations made
atomic under concurrent requests.

moto serves requests on threads (werkzeug, threaded=True) without a lock around its DynamoDB
backend, and its TransactWriteItems applies each item in turn after a deep copy of every table
it touches, restoring those copies when a condition fails. Two requests at once then break what
DynamoDB promises: a failed transaction's restore erases whatever another request wrote since
its copy (seen in the load test as releases lost, keys left leased: KEY_BUSY), and the deep copy
of a table of thousands of items costs every transaction time proportional to the table.

Here every item operation runs under one lock (DynamoDB's per-item atomicity, coarser), and a
transaction checks all of its conditions first and writes only when all hold, with the same
CancellationReasons (and ReturnValuesOnConditionCheckFailure items) as moto's, so there is
nothing to restore. Used for the local stack, its tests and npm start.
"""
import threading

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

LOCK = threading.RLock()

ITEM_OPERATIONS = [
    "put_item", "get_item", "update_item", "delete_item", "query", "scan",
    "batch_get_item", "batch_write_item", "transact_get_items",
]


def serialised(operation):
    def run(self, *args, **kwargs):
        with LOCK:
            return operation(self, *args, **kwargs)
    return run


for name in ITEM_OPERATIONS:
    setattr(DynamoDBBackend, name, serialised(getattr(DynamoDBBackend, name)))


def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with LOCK:
        planned, reasons, seen = [], [], set()
        for entry in transact_items:
            if len(entry) != 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            identity = (op["TableName"], str(sorted(key.items())))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            current = self.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            holds = condition is None or get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(current)
            if holds:
                reasons.append((None, None, None))
            else:
                old = current.to_json()["Attributes"] if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
                reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
            planned.append((op_type, op, key))
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        for op_type, op, key in planned:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(op["TableName"], key, update_expression=op["UpdateExpression"], expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values)


DynamoDBBackend.transact_write_items = transact_write_items
