"""Deployability, offline: `chalice package --merge-template` + cfn-lint + Chalice's own validation."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a subprocess: an end-to-end flow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request, tmp_path_factory):
    stage = request.param
    out = tmp_path_factory.mktemp(f"package-{stage}")
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "eu-central-1",
        "STAGE": stage,
    }
    env.pop("AWS_ENDPOINT_URL", None)
    subprocess.run(
        [
            str(BIN / "chalice"),
            "package",
            "--stage",
            stage,
            "--merge-template",
            "infra/resources.json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return stage, out, json.loads((out / "sam.json").read_text())


def test_template_passes_cfn_lint(packaged):
    _, out, _ = packaged
    result = subprocess.run([str(BIN / "cfn-lint"), str(out / "sam.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_worker_queue_dlq_and_partial_failures(packaged):
    stage, _, template = packaged
    resources = template["Resources"]
    worker = resources["ImportWorker"]["Properties"]
    event = worker["Events"]["ImportWorkerSqsEventSource"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert f"cmlbridge-{stage}-import" in event["Queue"]["Fn::Sub"]
    queue = resources["ImportQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= worker["Timeout"] == 900
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["ImportDeadLetterQueue", "Arn"]}
    assert worker["Environment"]["Variables"]["BUCKET"] == {"Ref": "DataBucket"}
    assert resources["APIHandler"]["Properties"]["Timeout"] <= 29
    assert worker["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3
    dead = resources["ImportDeadLetters"]["Properties"]
    source = dead["Events"]["ImportDeadLettersSqsEventSource"]["Properties"]
    assert f"cmlbridge-{stage}-import-dlq" in source["Queue"]["Fn::Sub"]
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    queues = next(s for s in policy["Statement"] if "sqs:ReceiveMessage" in s["Action"])["Resource"]
    assert f"arn:aws:sqs:*:*:cmlbridge-{stage}-import-dlq" in queues


def test_every_function_gets_the_one_environment_of_its_stage(packaged):
    """Every deployed function: the stage's variables (.chalice/config.json) and the bucket the
    template creates (its name carries the account, so only the template knows it)."""
    stage, _, template = packaged
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]
    env = config["environment_variables"]
    assert "BUCKET" not in env and "IMPORT_QUEUE_NAME" not in env, "derived in one place (settings.py)"
    functions = {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert {"APIHandler", "ImportWorker", "Scheduler", "ImportDeadLetters"} <= set(functions)
    for name, resource in functions.items():
        assert resource["Properties"]["Environment"]["Variables"] == {
            **env,
            "BUCKET": {"Ref": "DataBucket"},
        }, name


def test_table_names_match_the_stage_config_and_policy(packaged):
    stage, _, template = packaged
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]
    env = config["environment_variables"]
    tables = {
        name: res["Properties"]["TableName"]["Fn::Sub"].replace("${Stage}", stage)
        for name, res in template["Resources"].items()
        if res.get("Type") == "AWS::DynamoDB::Table"
    }
    assert set(tables.values()) == {
        env[k]
        for k in ("TENANTS_TABLE", "CATALOG_TABLE", "EXCHANGE_TABLE", "ORDERS_TABLE", "IDEMPOTENCY_TABLE")
    }
    policy = json.loads((ROOT / ".chalice" / config["iam_policy_file"]).read_text())
    table_arns = next(s for s in policy["Statement"] if s["Sid"] == "Tables")["Resource"]
    for table in tables.values():  # every table (and its indexes) is covered by the policy
        assert any(
            fnmatch.fnmatch(f"arn:aws:dynamodb:eu-central-1:1:table/{table}", arn) for arn in table_arns
        )
        assert any(
            fnmatch.fnmatch(f"arn:aws:dynamodb:eu-central-1:1:table/{table}/index/x", arn)
            for arn in table_arns
        )
    bucket = template["Resources"]["DataBucket"]["Properties"]
    rules = {r["Id"] for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert {"raw-uploads", "job-staging", "abort-multipart"} <= rules
    assert bucket["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_chalice_validate_configuration(stage, monkeypatch):
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_configuration

    monkeypatch.chdir(ROOT)
    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    validate_configuration(config)


def _emitted_metrics() -> set[str]:
    """The custom metric names the code emits (`metrics.add_metric(name=…)` in chalicelib)."""
    from chalicelib.notify.delivery import Outcome

    names = set()
    for path in (ROOT / "chalicelib").rglob("*.py"):
        names |= set(re.findall(r'add_metric\(\s*name="(\w+)"', path.read_text()))
    return names | {f"Webhook_{o.value}" for o in Outcome}  # webhooks.py: f"Webhook_{result.outcome}"


def test_alarms_and_dashboard_an_operator_acts_on(packaged):
    """Each alarm watches a metric that exists (AWS's, or one the code emits), goes to the alarm
    topic, and has its runbook line in the README; the dashboard shows them all."""
    _, _, template = packaged
    resources = template["Resources"]
    alarms = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert set(alarms) == {
        "DeadLettersAlarm", "WorkerErrorsAlarm", "SchedulerErrorsAlarm", "StalledImportAlarm",
        "Api5xxAlarm", "DynamoDBThrottlesAlarm", "WebhooksGivenUpAlarm", "WorkerNearTimeoutAlarm",
    }  # fmt: skip
    readme = (ROOT / "README.md").read_text()
    emitted = _emitted_metrics()
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        slug = alarm["AlarmName"]["Fn::Sub"].rsplit("}-", 1)[1]
        assert f"| `{slug}` |" in readme, f"{name}: no runbook line for {slug}"
        if alarm.get("Namespace") == "cmlbridge":
            assert alarm["MetricName"] in emitted, (
                f"{name} watches {alarm['MetricName']}, which nothing emits"
            )
    near = alarms["WorkerNearTimeoutAlarm"]["Threshold"]
    assert near == 0.8 * resources["ImportWorker"]["Properties"]["Timeout"] * 1000
    body = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert all(f"${{{name}.Arn}}" in body for name in alarms)
    assert {"Webhook_dead", "ImportStalled", "ImportFailed"} <= emitted
    assert (
        template["Conditions"]["HasAlarmEmail"]
        and resources["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"
    )


def test_mutual_tls_domain_is_an_option_off_by_default(packaged):
    """A custom domain with mutual TLS in front of the same API, on only when a domain is given
    (per stage, as a parameter); cfn-lint above has linted both branches."""
    _, _, template = packaged
    params, resources = template["Parameters"], template["Resources"]
    assert params["MtlsDomainName"]["Default"] == "" and params["MtlsOnly"]["Default"] == "false"
    domain = resources["MtlsDomain"]
    assert domain["Condition"] == "UseMtls" and domain["Type"] == "AWS::ApiGateway::DomainName"
    assert domain["Properties"]["MutualTlsAuthentication"]["TruststoreUri"] == {"Ref": "MtlsTruststoreUri"}
    assert domain["Properties"]["SecurityPolicy"] == "TLS_1_2"
    mapping = resources["MtlsBasePathMapping"]["Properties"]
    assert mapping["RestApiId"] == {"Ref": "RestAPI"} and mapping["DomainName"] == {"Ref": "MtlsDomain"}
    api = resources["RestAPI"]["Properties"]
    assert api["DisableExecuteApiEndpoint"] == {"Fn::If": ["MtlsOnlyEndpoint", True, False]}
    assert api["DefinitionBody"]["paths"], "the merge kept Chalice's API"


def test_pictures_can_have_a_cdn_of_their_own_that_reads_nothing_else(packaged):
    """Stable, cached picture URLs: an optional CloudFront distribution over the bucket, allowed
    to read `images/` only and only by its own ARN (Origin Access Control); off by default."""
    _, _, template = packaged
    assert template["Parameters"]["ImagesCdn"]["Default"] == "false"
    resources = template["Resources"]
    assert {
        resources[n]["Condition"] for n in ("ImagesDistribution", "ImagesOriginAccess", "ImagesBucketPolicy")
    } == {"UseImagesCdn"}
    (statement,) = resources["ImagesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:GetObject" and statement["Resource"] == {
        "Fn::Sub": "${DataBucket.Arn}/images/*"
    }
    assert "${ImagesDistribution}" in statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    behaviour = resources["ImagesDistribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https" and behaviour["AllowedMethods"] == [
        "GET",
        "HEAD",
    ]
    assert template["Outputs"]["ImagesCdnDomain"]["Condition"] == "UseImagesCdn"


def test_the_shop_api_has_a_function_url_front_door(packaged):
    """The same app behind a Lambda function URL (chalicelib/function_url.py): no API Gateway fee
    per request; CORS preflights answered by the URL itself."""
    _, _, template = packaged
    reads = template["Resources"]["ShopReads"]["Properties"]
    assert reads["Handler"] == "app.shop_reads"
    assert reads["FunctionUrlConfig"]["AuthType"] == "NONE", "the app checks the API key itself"
    assert "x-api-key" in reads["FunctionUrlConfig"]["Cors"]["AllowHeaders"]
    assert template["Outputs"]["ShopReadsUrl"]["Value"] == {"Fn::GetAtt": ["ShopReadsUrl", "FunctionUrl"]}
    logging = reads["LoggingConfig"]
    assert (logging["LogFormat"], logging["SystemLogLevel"]) == ("JSON", "WARN"), (
        "no START/END/REPORT lines a request: ~260 bytes of CloudWatch Logs each (make capacity)"
    )
    assert logging["ApplicationLogLevel"] == "INFO", "the app's own warnings and errors still land"
