package example;

import java.util.List;

import dev.restatecloudcdk.LambdaRegistrationOptions;
import dev.restatecloudcdk.RestateCloudEnvironment;
import dev.restatecloudcdk.RestateCloudRegion;
import dev.restatecloudcdk.ServiceDeployer;
import dev.restatecloudcdk.ServiceRegistration;
import software.amazon.awscdk.App;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.lambda.Architecture;
import software.amazon.awscdk.services.lambda.Code;
import software.amazon.awscdk.services.lambda.Function;
import software.amazon.awscdk.services.lambda.Runtime;
import software.amazon.awscdk.services.lambda.VersionOptions;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.amazon.awscdk.services.secretsmanager.Secret;
import software.constructs.Construct;

/**
 * Restate Cloud + one Lambda handler: the examples/lambda app, in Java.
 *
 * <p>`cdk synth` needs no AWS credentials. Settings come from cdk.json's context (override them
 * with `-c environmentId=env_...`): environmentId, apiKeySecretName, restateRegion (us or eu),
 * removalPolicy (retain or destroy), handlerDir, stackName (optional).
 */
public final class RestateLambdaExampleApp {

    /** The stack: the same resources as examples/lambda/main.ts. */
    public static final class RestateLambdaExampleStack extends Stack {
        public RestateLambdaExampleStack(final Construct scope, final String id, final StackProps props) {
            super(scope, id, props);

            RestateCloudRegion region = "eu".equals(getNode().getContext("restateRegion"))
                    ? RestateCloudRegion.EU
                    : RestateCloudRegion.US;
            RemovalPolicy removalPolicy = "destroy".equals(getNode().getContext("removalPolicy"))
                    ? RemovalPolicy.DESTROY
                    : RemovalPolicy.RETAIN;

            // The environment is created in the Restate Cloud UI; its API key (with a role that may
            // manage deployments) is stored in Secrets Manager under this name.
            RestateCloudEnvironment environment = RestateCloudEnvironment.Builder.create(this, "Restate")
                    .environmentId((String) getNode().getContext("environmentId"))
                    .apiKey(Secret.fromSecretNameV2(this, "ApiKey", (String) getNode().getContext("apiKeySecretName")))
                    .region(region)
                    .build();

            // The handler: your Restate service bundled into one file. Its role may write its own
            // log group and nothing else.
            LogGroup logGroup = LogGroup.Builder.create(this, "GreeterLogs")
                    .retention(RetentionDays.ONE_MONTH)
                    .removalPolicy(RemovalPolicy.DESTROY)
                    .build();
            Role role = Role.Builder.create(this, "GreeterRole")
                    .assumedBy(new ServicePrincipal("lambda.amazonaws.com"))
                    .build();
            logGroup.grantWrite(role);
            Function greeter = Function.Builder.create(this, "Greeter")
                    .runtime(Runtime.NODEJS_24_X)
                    .architecture(Architecture.ARM_64)
                    .handler("index.handler")
                    .code(Code.fromAsset((String) getNode().getContext("handlerDir"))) // relative to this directory
                    .timeout(Duration.seconds(30))
                    .role(role)
                    .logGroup(logGroup)
                    // A retained Restate deployment keeps its version: invocations in flight stay pinned to it.
                    .currentVersionOptions(VersionOptions.builder().removalPolicy(removalPolicy).build())
                    .build();

            // Register a specific version (never $LATEST): the environment's invoker role is granted
            // lambda:InvokeFunction on exactly this version.
            ServiceDeployer deployer = new ServiceDeployer(this, "ServiceDeployer");
            ServiceRegistration registration = deployer.register(greeter.getCurrentVersion(), environment,
                    LambdaRegistrationOptions.builder()
                            .expectedServices(List.of("Greeter"))
                            .removalPolicy(removalPolicy)
                            .build());

            CfnOutput.Builder.create(this, "DeploymentId").value(registration.getDeploymentId()).build();
            CfnOutput.Builder.create(this, "ServiceNames").value(registration.getServiceNames()).build();
            CfnOutput.Builder.create(this, "HandlerArn").value(greeter.getCurrentVersion().getFunctionArn()).build();
            CfnOutput.Builder.create(this, "IngressUrl").value(environment.getIngressUrl()).build();
            CfnOutput.Builder.create(this, "InvokerRoleArn").value(environment.getInvokerRole().getRoleArn()).build();
        }
    }

    public static void main(final String[] args) {
        App app = new App();
        Object stackName = app.getNode().tryGetContext("stackName");
        new RestateLambdaExampleStack(app, "RestateLambdaExample", StackProps.builder()
                .stackName(stackName == null ? null : stackName.toString())
                .description("restate-cloud-cdk example: Restate Cloud environment + one Lambda handler")
                .build());
        app.synth();
    }

    private RestateLambdaExampleApp() {
    }
}
