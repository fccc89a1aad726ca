// The CloudFormation logical ids osls gives the function `change-leverage` (infra/functions.yml):
// its normalised name ("-" spelled "Dash") + `LambdaFunction`, and the alias live-alias.cjs adds.
// The generated fragments and the plugin require them from here. The YAML fragments (alarms,
// queues, schedules, network, security) still spell the id out, as resource keys and in
// `!GetAtt`/`!Ref` short forms (the YAML parser splits `!GetAtt`'s argument at its dot before
// osls resolves any variable).
'use strict';

const FUNCTION_ID = 'ChangeDashleverageLambdaFunction';
const ALIAS_ID = 'ChangeDashleverageLambdaLiveAlias';

module.exports = { FUNCTION_ID, ALIAS_ID };
