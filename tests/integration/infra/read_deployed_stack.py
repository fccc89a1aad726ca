"""Reads a stack deployed into moto back through the AWS APIs, as JSON on stdout.

Usage: read_deployed_stack.py <endpoint> <region> <stack name> <packaged template.json>
       read_deployed_stack.py <endpoint> <region> <stack name> --removed

moto's CloudFormation creates most resources but silently skips some types (CloudWatch alarms,
SQS queue policies, the async invocation config, Scheduler resources) and ignores an event bus'
Policy property. For those, this applies the packaged template's own properties through the
service's API (resolving Ref/GetAtt against what the stack did create), so the test still learns
that AWS's API takes them as written, and then reads everything back the same way. The output says
which resources were applied here ("appliedByTest"), so nothing passes as deployed that was not.
Used only by tests/integration/infra/deploy.test.ts.
"""
import ast
import json
import sys
import urllib.parse

import boto3

endpoint, region, stack_name, template_path = sys.argv[1:5]
clients = {}


def client(service):
    if service not in clients:
        clients[service] = boto3.client(service, endpoint_url=endpoint, region_name=region)
    return clients[service]


if template_path == "--removed":
    # After `osls remove`: what is left of the stack.
    print(json.dumps({
        "stacks": [s["StackName"] for s in client("cloudformation").describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"],
        "functions": [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]],
        "tables": client("dynamodb").list_tables()["TableNames"],
    }))
    sys.exit(0)


template = json.load(open(template_path))
resources = template["Resources"]
summaries = client("cloudformation").list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
physical = {s["LogicalResourceId"]: s.get("PhysicalResourceId") for s in summaries if s.get("LogicalResourceId")}
stack = client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
for name, spec in template.get("Parameters", {}).items():
    parameters.setdefault(name, spec.get("Default", ""))
account = "123456789012"


def condition(name):
    return evaluate(template["Conditions"][name])


def name_of(logical_id):
    """A resource's name, from what moto created or, for a skipped one, from its properties."""
    resource = resources[logical_id]
    value = physical.get(logical_id)
    kind = resource["Type"]
    if kind == "AWS::SQS::Queue":
        return value.rsplit("/", 1)[-1]
    if kind == "AWS::SNS::Topic":
        return value.rsplit(":", 1)[-1]
    if value:
        return value
    return resource["Properties"].get("Name")


def arn_of(logical_id):
    kind = resources[logical_id]["Type"]
    name = name_of(logical_id)
    if kind == "AWS::SQS::Queue":
        return f"arn:aws:sqs:{region}:{account}:{name}"
    if kind == "AWS::Lambda::Function":
        return f"arn:aws:lambda:{region}:{account}:function:{name}"
    return physical[logical_id]


NO_VALUE = object()  # AWS::NoValue: the property or list item is left out


def evaluate(node):
    if isinstance(node, list):
        return [item for item in (evaluate(item) for item in node) if item is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if "Ref" in node:
        ref = node["Ref"]
        if ref == "AWS::NoValue":
            return NO_VALUE
        pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"}
        if ref in pseudo:
            return pseudo[ref]
        if ref in parameters:
            return parameters[ref]
        kind = resources[ref]["Type"]
        return arn_of(ref) if kind in ("AWS::SNS::Topic",) else physical.get(ref) or name_of(ref)
    if "Fn::GetAtt" in node:
        logical_id, attribute = node["Fn::GetAtt"]
        if attribute == "Arn":
            return arn_of(logical_id)
        return name_of(logical_id)  # QueueName, TopicName, Name
    if "Fn::Sub" in node:
        text = node["Fn::Sub"]
        for key, value in {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"}.items():
            text = text.replace("${" + key + "}", value)
        return text
    if "Fn::If" in node:
        name, yes, no = node["Fn::If"]
        return evaluate(yes if condition(name) else no)
    if "Fn::Equals" in node:
        a, b = evaluate(node["Fn::Equals"])
        return a == b
    if "Fn::Not" in node:
        return not evaluate(node["Fn::Not"][0])
    if "Fn::Join" in node:
        separator, items = node["Fn::Join"]
        return separator.join(str(item) for item in evaluate(items))
    values = {key: evaluate(value) for key, value in node.items()}
    return {key: value for key, value in values.items() if value is not NO_VALUE}


def created(logical_id):
    return "Condition" not in resources[logical_id] or condition(resources[logical_id]["Condition"])


applied = []
for logical_id, resource in resources.items():
    if not created(logical_id):
        continue
    properties = evaluate(resource.get("Properties", {}))
    kind = resource["Type"]
    if kind == "AWS::CloudWatch::Alarm" and not physical.get(logical_id):
        client("cloudwatch").put_metric_alarm(**properties)
    elif kind == "AWS::SQS::QueuePolicy":
        for queue_url in properties["Queues"]:
            client("sqs").set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(properties["PolicyDocument"])})
    elif kind == "AWS::Lambda::EventInvokeConfig":
        client("lambda").put_function_event_invoke_config(**properties)
    elif kind == "AWS::S3::Bucket":
        # moto's CloudFormation ignores both settings of the deployment bucket.
        bucket = physical[logical_id]
        client("s3").put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"])
        client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration=properties["VersioningConfiguration"])
    elif kind == "AWS::Events::EventBus" and "Policy" in properties:
        client("events").put_permission(EventBusName=properties["Name"], Policy=json.dumps(properties["Policy"]))
    else:
        continue
    applied.append(logical_id)

function_name = name_of("ChangeDashleverageLambdaFunction")
lam = client("lambda")
function = lam.get_function(FunctionName=function_name)
role_name = function["Configuration"]["Role"].rsplit("/", 1)[-1]
iam = client("iam")


def document(value):
    # boto3 decodes AWS's URL-encoded policy documents into a dict. moto's CloudFormation stores an
    # inline role policy as the Python repr of the template's dict, which arrives as a string.
    if not isinstance(value, str):
        return value
    text = urllib.parse.unquote(value)
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)


def role_statements(name):
    return {
        policy: document(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])["Statement"]
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
    }


bus_name = name_of("RiskEventBus")
events = client("events")
rules = events.list_rules(EventBusName=bus_name)["Rules"]
sqs = client("sqs")
queues = {
    name_of(logical_id): sqs.get_queue_attributes(QueueUrl=physical[logical_id], AttributeNames=["All"])["Attributes"]
    for logical_id, resource in resources.items()
    if resource["Type"] == "AWS::SQS::Queue" and created(logical_id)
}
bucket = physical["ServerlessDeploymentBucket"]
s3 = client("s3")
out = {
    "stackStatus": stack["StackStatus"],
    "appliedByTest": applied,
    "function": function["Configuration"],
    "concurrency": lam.get_function_concurrency(FunctionName=function_name).get("ReservedConcurrentExecutions"),
    "alias": lam.get_alias(FunctionName=function_name, Name="live"),
    "versions": [v["Version"] for v in lam.list_versions_by_function(FunctionName=function_name)["Versions"]],
    "eventSourceMappings": lam.list_event_source_mappings()["EventSourceMappings"],
    "eventInvokeConfigs": lam.list_function_event_invoke_configs(FunctionName=function_name)["FunctionEventInvokeConfigs"],
    "bus": events.describe_event_bus(Name=bus_name),
    "rules": [
        {**rule, "Targets": events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus_name)["Targets"]} for rule in rules
    ],
    "functionRole": role_statements(role_name),
    "schedulerRole": role_statements(name_of("SchedulerRole")),
    "alarms": client("cloudwatch").describe_alarms()["MetricAlarms"],
    "dashboards": [d["DashboardName"] for d in client("cloudwatch").list_dashboards()["DashboardEntries"]],
    "queues": queues,
    "resultTopic": client("sns").get_topic_attributes(TopicArn=arn_of("ResultTopic"))["Attributes"],
    "bucketVersioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
    "bucketPublicAccessBlock": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
}
print(json.dumps(out, default=str))
