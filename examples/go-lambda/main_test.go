package main

// Checks the template `cdk synth` wrote for this Go app (cdk.out/) against the TypeScript
// example's (../lambda/cdk.out/): the same resource types, the invoker role's trust policy
// statement by statement, and the registration's properties (asset hashes and paths aside).
// Synthesize both apps first: scripts/check-languages.sh go does all of it.

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

const stackName = "RestateLambdaExample"

type template struct {
	Resources map[string]map[string]any
	Outputs   map[string]any
}

func load(t *testing.T, env, fallback string) template {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		path = fallback
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s is missing: synthesize the app first (bash scripts/check-languages.sh go): %v", path, err)
	}
	var tpl template
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tpl
}

func templates(t *testing.T) (goTpl, tsTpl template) {
	return load(t, "GO_TEMPLATE", "cdk.out/"+stackName+".template.json"),
		load(t, "TS_TEMPLATE", "../lambda/cdk.out/"+stackName+".template.json")
}

func theOne(t *testing.T, tpl template, typ string) (string, map[string]any) {
	t.Helper()
	var ids []string
	for id, r := range tpl.Resources {
		if r["Type"] == typ {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("expected one %s, found %v", typ, ids)
	}
	return ids[0], tpl.Resources[ids[0]]
}

func props(r map[string]any) map[string]any { return r["Properties"].(map[string]any) }

func getAttTarget(v any) string { return v.(map[string]any)["Fn::GetAtt"].([]any)[0].(string) }

func parse(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func invokerRole(t *testing.T, tpl template) map[string]any {
	_, registration := theOne(t, tpl, "Custom::RestateDeployment")
	return tpl.Resources[getAttTarget(props(registration)["AssumeRoleArn"])]
}

// resources returns the template's resources as generic JSON values.
func resources(tpl template) map[string]any {
	out := map[string]any{}
	for id, r := range tpl.Resources {
		out[id] = r
	}
	return out
}

// stripAssets drops what depends on asset hashes and paths, and CDKMetadata.
func stripAssets(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			switch k {
			case "S3Key", "aws:asset:path", "aws:asset:is-bundled", "aws:asset:property", "CDKMetadata":
				continue
			}
			out[k] = stripAssets(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripAssets(e)
		}
		return out
	}
	return v
}

func TestSameResourceTypesAsTypeScript(t *testing.T) {
	goTpl, tsTpl := templates(t)
	types := func(tpl template) []string {
		var out []string
		for id, r := range tpl.Resources {
			out = append(out, id+" "+r["Type"].(string))
		}
		sort.Strings(out)
		return out
	}
	if g, w := types(goTpl), types(tsTpl); !reflect.DeepEqual(g, w) {
		t.Errorf("resources differ:\n go: %v\n ts: %v", g, w)
	}
}

func TestInvokerRoleTrustPolicy(t *testing.T) {
	goTpl, tsTpl := templates(t)
	document := props(invokerRole(t, goTpl))["AssumeRolePolicyDocument"].(map[string]any)
	if document["Version"] != "2012-10-17" {
		t.Errorf("Version = %v", document["Version"])
	}
	statements := document["Statement"].([]any)
	want := []any{
		parse(t, `{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::654654156625:root"},
			"Action": "sts:AssumeRole", "Condition": {"StringEquals": {
			"aws:PrincipalArn": "arn:aws:iam::654654156625:role/RestateCloud",
			"sts:ExternalId": "env_201hy10cd3h6426jy80tb32n6en"}}}`),
		parse(t, `{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::654654156625:root"},
			"Action": "sts:TagSession"}`),
	}
	if len(statements) != len(want) {
		t.Fatalf("%d statements, want %d: %v", len(statements), len(want), statements)
	}
	for i := range want {
		if !reflect.DeepEqual(statements[i], want[i]) {
			t.Errorf("statement %d = %v, want %v", i, statements[i], want[i])
		}
	}
	if !reflect.DeepEqual(invokerRole(t, goTpl), invokerRole(t, tsTpl)) {
		t.Errorf("the invoker role differs from the TypeScript example's")
	}
}

func TestRegistrationProperties(t *testing.T) {
	goTpl, tsTpl := templates(t)
	_, registration := theOne(t, goTpl, "Custom::RestateDeployment")
	p := props(registration)
	versionID, _ := theOne(t, goTpl, "AWS::Lambda::Version")
	permissionID, permission := theOne(t, goTpl, "AWS::Lambda::Permission")
	roleID := getAttTarget(p["AssumeRoleArn"])
	checks := map[string][2]any{
		"invoker role type":   {goTpl.Resources[roleID]["Type"], "AWS::IAM::Role"},
		"service token":       {goTpl.Resources[getAttTarget(p["ServiceToken"])]["Type"], "AWS::Lambda::Function"},
		"AdminUrl":            {p["AdminUrl"], "https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070"},
		"LambdaArn":           {p["LambdaArn"], map[string]any{"Ref": versionID}},
		"ExpectedServices":    {p["ExpectedServices"], []any{"Greeter"}},
		"Force":               {p["Force"], "false"},
		"Breaking":            {p["Breaking"], "false"},
		"RemovalPolicy":       {p["RemovalPolicy"], "retain"},
		"grant Action":        {props(permission)["Action"], "lambda:InvokeFunction"},
		"grant FunctionName":  {props(permission)["FunctionName"], map[string]any{"Ref": versionID}},
		"grant Principal":     {props(permission)["Principal"], map[string]any{"Fn::GetAtt": []any{roleID, "Arn"}}},
		"registered after it": {registration["DependsOn"], []any{permissionID}},
	}
	for name, c := range checks {
		if !reflect.DeepEqual(c[0], c[1]) {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
	if owner, _ := p["Owner"].(string); !strings.HasPrefix(owner, stackName+"/Greeter/CurrentVersion/RestateRegistration") {
		t.Errorf("Owner = %q", owner)
	}
	secret, _ := json.Marshal(p["AuthTokenSecretArn"])
	if !strings.Contains(string(secret), ":secret:restate/api-key") {
		t.Errorf("AuthTokenSecretArn = %s", secret)
	}
	_, tsRegistration := theOne(t, tsTpl, "Custom::RestateDeployment")
	_, tsPermission := theOne(t, tsTpl, "AWS::Lambda::Permission")
	if !reflect.DeepEqual(registration, tsRegistration) || !reflect.DeepEqual(permission, tsPermission) {
		t.Errorf("the registration or its grant differs from the TypeScript example's")
	}
}

func TestSameTemplateAsTypeScriptApartFromAssets(t *testing.T) {
	goTpl, tsTpl := templates(t)
	if !reflect.DeepEqual(stripAssets(resources(goTpl)), stripAssets(resources(tsTpl))) {
		t.Errorf("resources differ from the TypeScript example's (asset hashes and paths aside)")
	}
	if !reflect.DeepEqual(goTpl.Outputs, tsTpl.Outputs) {
		t.Errorf("outputs differ: %v vs %v", goTpl.Outputs, tsTpl.Outputs)
	}
}
