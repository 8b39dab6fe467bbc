# Every target runs from the project's own virtual environment, built from the pinned
# requirement files, so a machine needs only Python 3 and make. `make` alone lists the
# targets: the `##` comments below are their help.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

# The one check before anything else: the virtual environment needs Python 3.11 or newer.
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d.%d" % sys.version_info[:3], int(sys.version_info >= (3, 11)))' 2>/dev/null)
ifneq ($(lastword $(PYTHON_VERSION)),1)
$(error Python 3.11 or newer is needed, but $(PYTHON) is $(or $(firstword $(PYTHON_VERSION)),not found): run make PYTHON=python3.12 (or another 3.11+))
endif

# The provider's version, written once in pyproject.toml (release/make_release.py).
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml)
RELEASE_TEMPLATE := dist/wait-for-certificate-$(VERSION).yaml

# checkov, an independent IaC scanner, pins boto3, packaging and networkx below what this
# project and cfn-lint need, so it gets a virtual environment of its own inside .venv,
# built from its own fully pinned requirements-checkov.txt.
CHECKOV_VENV  := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat requirements-checkov.txt | cksum | cut -d' ' -f1)
# Offline and quick: no policy download from the Bridgecrew platform (--skip-download,
# BC_SKIP_MAPPING) and no PyPI version check (CKV_SKIP_PACKAGE_UPDATE_CHECK); a template
# it cannot parse fails the run (CKV_PARSE_ERROR_FAIL). Skipped checks are justified in
# each template's Metadata (checkov: skip:); tests/test_templates.py runs it too.
CHECKOV_ENV := BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE CKV_PARSE_ERROR_FAIL=TRUE
CHECKOV = $(CHECKOV_ENV) $(CHECKOV_VENV)/bin/checkov --skip-download --framework cloudformation

# The CDK construct library (cdk/) and its tests (tests/cdk) need aws-cdk-lib, about 400 MB,
# so they get a virtual environment of their own too (.venv/cdk: the development
# requirements plus requirements-cdk.txt). The jsii runtime inside aws-cdk-lib runs on
# Node.js, 18 or later.
CDK_VENV  := $(VENV)/cdk
CDK_STAMP := $(CDK_VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt requirements-cdk.txt | cksum | cut -d' ' -f1)
NODE_MAJOR_MIN := 18

.DEFAULT_GOAL := help
.PHONY: help venv test test-deep lint lint-template lint-cdk test-cdk check-node demo bench clean

help: ## list the targets
	@echo "make <target> [VARIABLE=value ...]"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) $(CHECKOV_STAMP) $(CDK_STAMP) ## build .venv from the pinned requirements (every target does it when needed)

# $(call new-venv,FOLDER,REQUIREMENTS): a fresh virtual environment with exactly those pins.
define new-venv
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check -r $(2)
	$(1)/bin/python -m pip check --disable-pip-version-check
	touch $@
endef

$(STAMP): requirements.txt requirements-dev.txt
	$(call new-venv,$(VENV),requirements-dev.txt)

$(CHECKOV_STAMP): requirements-checkov.txt $(STAMP)
	$(call new-venv,$(CHECKOV_VENV),requirements-checkov.txt)

$(CDK_STAMP): requirements-cdk.txt $(STAMP)
	$(call new-venv,$(CDK_VENV),requirements-cdk.txt)

# The cfn-lint rules that check a template's Custom::WaitForCertificate resources against
# the function's own property definitions (docs/template-checks.md); cfn-lint loads them
# from this directory. They run over the project's own templates too.
LINT_RULES := wait_for_certificate_lint

lint: $(STAMP) $(CHECKOV_STAMP) lint-cdk ## ruff (lint and format check), mypy, cfn-lint (with our rules) and checkov on every template
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint --append-rules=$(LINT_RULES) -- template/*.yaml
	$(CHECKOV) --directory template --quiet --compact

lint-template: $(STAMP) ## check your template before deploying it, our rules included: TEMPLATE=path
	@test -n "$(TEMPLATE)" || { echo "make lint-template: set TEMPLATE=<path of a CloudFormation template>"; exit 1; }
	$(BIN)/cfn-lint --append-rules=$(LINT_RULES) -- '$(TEMPLATE)'

lint-cdk: $(CDK_STAMP) ## mypy on the CDK construct library and its tests (in .venv/cdk)
	$(CDK_VENV)/bin/mypy cdk/wait_for_certificate_cdk cdk/example $(wildcard tests/cdk/*.py)

check-node: ## is Node.js (>= 18, for the jsii runtime of aws-cdk-lib) on the PATH?
	@command -v node >/dev/null 2>&1 || { echo "make: the CDK tests need Node.js $(NODE_MAJOR_MIN) or later on the PATH (aws-cdk-lib runs its jsii runtime on it), and there is no 'node' command: install Node.js (e.g. apt-get install nodejs) and run make again"; exit 1; }
	@major=$$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null); \
	test "$${major:-0}" -ge $(NODE_MAJOR_MIN) 2>/dev/null || { echo "make: the CDK tests need Node.js $(NODE_MAJOR_MIN) or later (aws-cdk-lib runs its jsii runtime on it), and 'node --version' says $$(node --version 2>&1): install a newer Node.js and run make again"; exit 1; }

test-cdk: $(CDK_STAMP) check-node ## the CDK construct's tests only (synthesis, cfn-lint, one end-to-end run)
	$(CDK_VENV)/bin/pytest tests/cdk

test: lint ## lint, then pytest (no AWS account, no network); what .ci/run runs
	$(BIN)/pytest
	@$(MAKE) --no-print-directory test-cdk

test-deep: $(STAMP) ## the model-based test of CloudFormation's sequences, searched far deeper (minutes)
	WFC_MODEL_PROFILE=deep $(BIN)/pytest tests/test_model.py

# The recipe is not echoed, so `make demo ARGS=--json` prints nothing but the JSON report.
demo: $(STAMP) ## the whole stack lifecycle on a local AWS emulation; ARGS="--help" for options
	@$(BIN)/python -m tools.demo $(ARGS)

bench: $(STAMP) ## simulated benchmark over 20 seeds, side by side with other ways to wait (docs/benchmark.md); ARGS="--help"
	$(BIN)/python -m tools.bench $(ARGS)

# Deployment (see docs/deployment.md and docs/releases.md). `build` writes the function
# package; `release` the versioned package, template and sums; `deploy` uploads the
# release's package to BUCKET with `aws cloudformation package` and deploys its template as STACK;
# `deploy-example` deploys template/example.yaml (a certificate for DOMAIN in hosted zone
# ZONE) against it. REGION defaults to the AWS CLI's own configuration. Both first check
# the region, the network and the credentials (release/check_aws.py).
STACK         ?= wait-for-certificate
EXAMPLE_STACK ?= $(STACK)-example
CERT_REGION   ?= us-east-1
PACKAGE_ZIP   := dist/wait-for-certificate.zip
AWS            = $(BIN)/aws $(if $(REGION),--region $(REGION))
check-aws      = $(BIN)/python -m release.check_aws --target $(1) $(if $(REGION),--region $(REGION))

.PHONY: build release deploy deploy-example adopt-certificates

build: $(STAMP) ## the function package, dist/wait-for-certificate.zip (reproducible)
	$(BIN)/python -m release.build_zip --output $(PACKAGE_ZIP)

release: $(STAMP) ## the release of pyproject's version into dist/: package, template, SHA256SUMS (reproducible)
	$(BIN)/python -m release.make_release

deploy: $(STAMP) ## deploy the provider: BUCKET=... [STACK=...] [REGION=...] [PARAMS="K=V ..."]
	@test -n "$(BUCKET)" || { echo "make deploy: set BUCKET=<an S3 bucket in the deployment region> for the function package"; exit 1; }
	@$(call check-aws,deploy)
	@$(MAKE) --no-print-directory release
	$(AWS) cloudformation package --template-file $(RELEASE_TEMPLATE) \
		--s3-bucket '$(BUCKET)' --s3-prefix '$(STACK)' --output-template-file dist/provider.packaged.yaml
	$(AWS) cloudformation deploy --template-file dist/provider.packaged.yaml --stack-name '$(STACK)' \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset $(if $(PARAMS),--parameter-overrides $(PARAMS))
	$(AWS) cloudformation describe-stacks --stack-name '$(STACK)' --query 'Stacks[0].Outputs' --output table

deploy-example: $(STAMP) ## deploy template/example.yaml: DOMAIN=... ZONE=... [CERT_REGION=...]
	@test -n "$(DOMAIN)" && test -n "$(ZONE)" || { echo "make deploy-example: set DOMAIN=<certificate name> and ZONE=<its Route 53 hosted zone id>"; exit 1; }
	@$(call check-aws,deploy-example)
	$(AWS) cloudformation deploy --template-file template/example.yaml --stack-name '$(EXAMPLE_STACK)' \
		--no-fail-on-empty-changeset --parameter-overrides 'ProviderStackName=$(STACK)' \
		'DomainName=$(DOMAIN)' 'HostedZoneId=$(ZONE)' 'CertificateRegion=$(CERT_REGION)'
	$(AWS) cloudformation describe-stacks --stack-name '$(EXAMPLE_STACK)' --query 'Stacks[0].Outputs' --output table

adopt-certificates: $(STAMP) ## tag certificates an older provider requested for their stack: CONSUMER_STACK=... [APPLY=1]
	@test -n "$(CONSUMER_STACK)" || { echo "make adopt-certificates: set CONSUMER_STACK=<a stack that uses Custom::WaitForCertificate>"; exit 1; }
	$(BIN)/python -m release.adopt_certificates --stack '$(CONSUMER_STACK)' $(if $(REGION),--region $(REGION)) $(if $(APPLY),--apply)

clean: ## remove .venv, dist/ and the tools' caches
	rm -rf $(VENV) dist .pytest_cache .mypy_cache .ruff_cache
