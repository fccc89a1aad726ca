"""moto_server, plus the CloudFormation support for function aliases that moto 5.2.5 lacks.

moto's CloudFormation silently skips AWS::Lambda::Alias, and cannot Fn::GetAtt a version's
Version, so every trigger that invokes the alias (the SQS mappings, the rule target, the
permissions) would reference nothing. moto's Lambda API does implement aliases; this registers a
CloudFormation model that creates one through it (moto picks up every CloudFormationModel subclass
by its type) and answers GetAtt Version. Used only by tests/integration/infra/deploy.test.ts.
"""
import sys

from moto.awslambda.models import LambdaVersion, lambda_backends
from moto.core.common_models import CloudFormationModel
from moto.server import main


class LambdaAliasFromCloudFormation(CloudFormationModel):
    # moto's model metaclass files every model under the service named in its module path.
    __module__ = "moto.awslambda.alias_from_cloudformation"

    def __init__(self, alias):
        self.alias = alias

    @staticmethod
    def cloudformation_type():
        return "AWS::Lambda::Alias"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        backend = lambda_backends[account_id][region_name]
        alias = backend.create_alias(
            name=properties["Name"],
            function_name=properties["FunctionName"],
            function_version=str(properties["FunctionVersion"]),
            description=properties.get("Description", ""),
            routing_config=None,
        )
        return cls(alias)

    @property
    def physical_resource_id(self):
        return self.alias.arn


def version_attribute(version, attribute):
    if attribute == "Version":
        return version.version
    raise NotImplementedError(attribute)


LambdaVersion.get_cfn_attribute = version_attribute

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
