// Restate Cloud + one Lambda handler: the examples/lambda app, in Go.
//
// `cdk synth` needs no AWS credentials. Settings come from cdk.json's context (override them
// with `-c environmentId=env_...`): environmentId, apiKeySecretName, restateRegion (us or eu),
// removalPolicy (retain or destroy), handlerDir, stackName (optional).
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/restate-cloud-cdk/restate-cloud-cdk-go/restatecloudcdk"
)

func context(scope constructs.Construct, key string) string {
	value, _ := scope.Node().TryGetContext(jsii.String(key)).(string)
	return value
}

// NewRestateLambdaExampleStack builds the same resources as examples/lambda/main.ts.
func NewRestateLambdaExampleStack(scope constructs.Construct, id string, props *awscdk.StackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, props)

	region := restatecloudcdk.RestateCloudRegion_US()
	if context(stack, "restateRegion") == "eu" {
		region = restatecloudcdk.RestateCloudRegion_EU()
	}
	removalPolicy := awscdk.RemovalPolicy_RETAIN
	if context(stack, "removalPolicy") == "destroy" {
		removalPolicy = awscdk.RemovalPolicy_DESTROY
	}

	// The environment is created in the Restate Cloud UI; its API key (with a role that may
	// manage deployments) is stored in Secrets Manager under this name.
	environment := restatecloudcdk.NewRestateCloudEnvironment(stack, jsii.String("Restate"), &restatecloudcdk.RestateCloudEnvironmentProps{
		EnvironmentId: jsii.String(context(stack, "environmentId")),
		ApiKey:        awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("ApiKey"), jsii.String(context(stack, "apiKeySecretName"))),
		Region:        region,
	})

	// The handler: your Restate service bundled into one file. Its role may write its own log
	// group and nothing else.
	logGroup := awslogs.NewLogGroup(stack, jsii.String("GreeterLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(stack, jsii.String("GreeterRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	logGroup.GrantWrite(role)
	greeter := awslambda.NewFunction(stack, jsii.String("Greeter"), &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_NODEJS_24_X(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("index.handler"),
		Code:         awslambda.Code_FromAsset(jsii.String(context(stack, "handlerDir")), nil), // relative to this directory
		Timeout:      awscdk.Duration_Seconds(jsii.Number(30)),
		Role:         role,
		LogGroup:     logGroup,
		// A retained Restate deployment keeps its version: invocations in flight stay pinned to it.
		CurrentVersionOptions: &awslambda.VersionOptions{RemovalPolicy: removalPolicy},
	})

	// Register a specific version (never $LATEST): the environment's invoker role is granted
	// lambda:InvokeFunction on exactly this version.
	deployer := restatecloudcdk.NewServiceDeployer(stack, jsii.String("ServiceDeployer"), nil)
	registration := deployer.Register(greeter.CurrentVersion(), environment, &restatecloudcdk.LambdaRegistrationOptions{
		ExpectedServices: jsii.Strings("Greeter"),
		RemovalPolicy:    removalPolicy,
	})

	awscdk.NewCfnOutput(stack, jsii.String("DeploymentId"), &awscdk.CfnOutputProps{Value: registration.DeploymentId()})
	awscdk.NewCfnOutput(stack, jsii.String("ServiceNames"), &awscdk.CfnOutputProps{Value: registration.ServiceNames()})
	awscdk.NewCfnOutput(stack, jsii.String("HandlerArn"), &awscdk.CfnOutputProps{Value: greeter.CurrentVersion().FunctionArn()})
	awscdk.NewCfnOutput(stack, jsii.String("IngressUrl"), &awscdk.CfnOutputProps{Value: environment.IngressUrl()})
	awscdk.NewCfnOutput(stack, jsii.String("InvokerRoleArn"), &awscdk.CfnOutputProps{Value: environment.InvokerRole().RoleArn()})
	return stack
}

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	props := &awscdk.StackProps{
		Description: jsii.String("restate-cloud-cdk example: Restate Cloud environment + one Lambda handler"),
	}
	if name := context(app, "stackName"); name != "" {
		props.StackName = jsii.String(name)
	}
	NewRestateLambdaExampleStack(app, "RestateLambdaExample", props)
	app.Synth(nil)
}
