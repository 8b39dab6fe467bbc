# Every target runs from the project's own virtual environment, built from the pinned
# requirement files, so a machine needs only Python 3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

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

.PHONY: venv test test-deep lint demo bench clean

venv: $(STAMP) $(CHECKOV_STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip check --disable-pip-version-check
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt $(STAMP)
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	$(CHECKOV_VENV)/bin/python -m pip check --disable-pip-version-check
	touch $@

lint: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template/*.yaml
	$(CHECKOV) --directory template --quiet --compact

test: lint
	$(BIN)/pytest

# The model-based test of CloudFormation's sequences (tests/test_model.py) with a far
# deeper, randomised search than the fixed set `make test` runs (several minutes).
test-deep: $(STAMP)
	WFC_MODEL_PROFILE=deep $(BIN)/pytest tests/test_model.py

# The whole stack lifecycle on a local AWS emulation (moto's server on 127.0.0.1, no account,
# no network; tools/demo.py): e.g. make demo ARGS="--fail validation", ARGS="--json",
# ARGS="--domain www.example.org --san api.example.org"; ARGS="--help" lists the options.
# The recipe is not echoed, so `make demo ARGS=--json` prints nothing but the JSON report.
demo: $(STAMP)
	@$(BIN)/python -m tools.demo $(ARGS)

# Simulated benchmark of the waiting engine (tools/bench.py): prints a table and writes
# bench-results.json; ARGS="--help" lists the options.
bench: $(STAMP)
	$(BIN)/python -m tools.bench $(ARGS)

# Deployment (see README.md). `build` writes the function package; `deploy` uploads it to
# BUCKET with `aws cloudformation package` and deploys template/provider.yaml as STACK;
# `deploy-example` deploys template/example.yaml (a certificate for DOMAIN in hosted zone
# ZONE) against it. REGION defaults to the AWS CLI's own configuration.
STACK         ?= wait-for-certificate
EXAMPLE_STACK ?= $(STACK)-example
CERT_REGION   ?= us-east-1
PACKAGE_ZIP   := dist/wait-for-certificate.zip
AWS            = $(BIN)/aws $(if $(REGION),--region $(REGION))
# Stop with one line, not a traceback, when the AWS CLI has no usable credentials.
check-aws = err=$$($(AWS) sts get-caller-identity 2>&1 >/dev/null) || { \
	echo "make $(1): no usable AWS credentials ($$(echo "$$err" | grep . | tail -n 1))"; exit 1; }

.PHONY: build deploy deploy-example

build: $(STAMP)
	$(BIN)/python -m tools.build_zip --output $(PACKAGE_ZIP)

deploy: $(STAMP)
	@test -n "$(BUCKET)" || { echo "make deploy: set BUCKET=<an S3 bucket in the deployment region> for the function package"; exit 1; }
	@$(call check-aws,deploy)
	@$(MAKE) --no-print-directory build
	$(AWS) cloudformation package --template-file template/provider.yaml \
		--s3-bucket '$(BUCKET)' --s3-prefix '$(STACK)' --output-template-file dist/provider.packaged.yaml
	$(AWS) cloudformation deploy --template-file dist/provider.packaged.yaml --stack-name '$(STACK)' \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset $(if $(PARAMS),--parameter-overrides $(PARAMS))
	$(AWS) cloudformation describe-stacks --stack-name '$(STACK)' --query 'Stacks[0].Outputs' --output table

deploy-example: $(STAMP)
	@test -n "$(DOMAIN)" && test -n "$(ZONE)" || { echo "make deploy-example: set DOMAIN=<certificate name> and ZONE=<its Route 53 hosted zone id>"; exit 1; }
	@$(call check-aws,deploy-example)
	$(AWS) cloudformation deploy --template-file template/example.yaml --stack-name '$(EXAMPLE_STACK)' \
		--no-fail-on-empty-changeset --parameter-overrides 'ProviderStackName=$(STACK)' \
		'DomainName=$(DOMAIN)' 'HostedZoneId=$(ZONE)' 'CertificateRegion=$(CERT_REGION)'
	$(AWS) cloudformation describe-stacks --stack-name '$(EXAMPLE_STACK)' --query 'Stacks[0].Outputs' --output table

clean:
	rm -rf $(VENV) dist .pytest_cache .mypy_cache .ruff_cache
