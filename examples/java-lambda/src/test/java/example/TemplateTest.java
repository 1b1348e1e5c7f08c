package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the template `cdk synth` wrote for this Java app (cdk.out/) against the TypeScript
 * example's (../lambda/cdk.out/): the same resource types, the invoker role's trust policy
 * statement by statement, and the registration's properties (asset hashes and paths aside).
 * Synthesize both apps first: scripts/check-languages.sh java does all of it.
 */
class TemplateTest {
    private static final String STACK = "RestateLambdaExample";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonNode java;
    private static JsonNode ts;

    @BeforeAll
    static void load() throws IOException {
        java = read(System.getProperty("javaTemplate", "cdk.out/" + STACK + ".template.json"));
        ts = read(System.getProperty("tsTemplate", "../lambda/cdk.out/" + STACK + ".template.json"));
    }

    private static JsonNode read(final String path) throws IOException {
        File file = new File(path);
        assertTrue(file.exists(), path + " is missing: synthesize the app first (bash scripts/check-languages.sh java)");
        return JSON.readTree(file);
    }

    private static JsonNode json(final String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static Map<String, JsonNode> ofType(final JsonNode template, final String type) {
        Map<String, JsonNode> found = new TreeMap<>();
        template.get("Resources").fields().forEachRemaining(e -> {
            if (type.equals(e.getValue().get("Type").asText())) {
                found.put(e.getKey(), e.getValue());
            }
        });
        return found;
    }

    private static Map.Entry<String, JsonNode> theOne(final JsonNode template, final String type) {
        Map<String, JsonNode> found = ofType(template, type);
        assertEquals(1, found.size(), "expected one " + type + ", found " + found.keySet());
        return found.entrySet().iterator().next();
    }

    private static String getAttTarget(final JsonNode getAtt) {
        return getAtt.get("Fn::GetAtt").get(0).asText();
    }

    /** A copy without what depends on asset hashes and paths, and without CDKMetadata. */
    private static JsonNode withoutAssets(final JsonNode node) {
        JsonNode copy = node.deepCopy();
        strip(copy);
        return copy;
    }

    private static void strip(final JsonNode node) {
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            object.remove(List.of("S3Key", "aws:asset:path", "aws:asset:is-bundled", "aws:asset:property", "CDKMetadata"));
            object.elements().forEachRemaining(TemplateTest::strip);
        } else if (node.isArray()) {
            node.elements().forEachRemaining(TemplateTest::strip);
        }
    }

    private static List<String> types(final JsonNode template) {
        List<String> types = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> it = template.get("Resources").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            types.add(e.getKey() + " " + e.getValue().get("Type").asText());
        }
        types.sort(null);
        return types;
    }

    private static JsonNode invokerRole(final JsonNode template) {
        JsonNode registration = theOne(template, "Custom::RestateDeployment").getValue();
        return template.get("Resources").get(getAttTarget(registration.get("Properties").get("AssumeRoleArn")));
    }

    @Test
    void sameResourceTypesAsTypeScript() {
        assertEquals(types(ts), types(java));
    }

    @Test
    void invokerRoleTrustPolicy() {
        JsonNode document = invokerRole(java).get("Properties").get("AssumeRolePolicyDocument");
        assertEquals("2012-10-17", document.get("Version").asText());
        JsonNode statements = document.get("Statement");
        assertEquals(2, statements.size());
        assertEquals(json("{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::654654156625:root\"},"
                + " \"Action\": \"sts:AssumeRole\", \"Condition\": {\"StringEquals\": {"
                + " \"aws:PrincipalArn\": \"arn:aws:iam::654654156625:role/RestateCloud\","
                + " \"sts:ExternalId\": \"env_201hy10cd3h6426jy80tb32n6en\"}}}"), statements.get(0));
        assertEquals(json("{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::654654156625:root\"},"
                + " \"Action\": \"sts:TagSession\"}"), statements.get(1));
        assertEquals(invokerRole(ts), invokerRole(java));
    }

    @Test
    void registrationProperties() {
        Map.Entry<String, JsonNode> registration = theOne(java, "Custom::RestateDeployment");
        JsonNode props = registration.getValue().get("Properties");
        String versionId = theOne(java, "AWS::Lambda::Version").getKey();
        Map.Entry<String, JsonNode> permission = theOne(java, "AWS::Lambda::Permission");
        String roleId = getAttTarget(props.get("AssumeRoleArn"));
        assertEquals("AWS::IAM::Role", java.get("Resources").get(roleId).get("Type").asText());
        assertEquals("AWS::Lambda::Function",
                java.get("Resources").get(getAttTarget(props.get("ServiceToken"))).get("Type").asText());
        assertEquals("https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070", props.get("AdminUrl").asText());
        assertEquals(json("{\"Ref\": \"" + versionId + "\"}"), props.get("LambdaArn"));
        assertEquals(json("[\"Greeter\"]"), props.get("ExpectedServices"));
        assertEquals("false", props.get("Force").asText());
        assertEquals("false", props.get("Breaking").asText());
        assertEquals("retain", props.get("RemovalPolicy").asText());
        assertTrue(props.get("Owner").asText().startsWith(STACK + "/Greeter/CurrentVersion/RestateRegistration"));
        assertTrue(props.get("AuthTokenSecretArn").toString().contains(":secret:restate/api-key"));
        // The invoke grant: a resource policy statement on exactly this version, before registering.
        JsonNode grant = permission.getValue().get("Properties");
        assertEquals("lambda:InvokeFunction", grant.get("Action").asText());
        assertEquals(json("{\"Ref\": \"" + versionId + "\"}"), grant.get("FunctionName"));
        assertEquals(json("{\"Fn::GetAtt\": [\"" + roleId + "\", \"Arn\"]}"), grant.get("Principal"));
        assertEquals(json("[\"" + permission.getKey() + "\"]"), registration.getValue().get("DependsOn"));
        // And exactly the TypeScript example's.
        assertEquals(theOne(ts, "Custom::RestateDeployment").getValue(), registration.getValue());
        assertEquals(theOne(ts, "AWS::Lambda::Permission").getValue(), permission.getValue());
    }

    @Test
    void sameTemplateAsTypeScriptApartFromAssets() {
        assertEquals(withoutAssets(ts.get("Resources")), withoutAssets(java.get("Resources")));
        assertEquals(ts.get("Outputs"), java.get("Outputs"));
    }
}
