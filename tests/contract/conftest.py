"""The live shop of the contract tests: one per database backend and module (it takes seconds
to migrate and seed, the runs take longer), with the customer's objects made through the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import missing_service
from tests.contract.seed import SeededObjects, seed_objects
from tests.contract.shop import (
    OPENAPI_PATH,
    ApiClient,
    Credentials,
    obtain_credentials,
    start_shop,
)
from tests.support.databases import DatabaseProvider
from tests.support.live_server import LiveServer

# Every database (a missing server fails under CI): what a database refuses differs (text
# lengths, encodings, constraint timing), and fuzzing finds what hand-written tests did not.
CONTRACT_BACKENDS = ("sqlite", "postgresql", "mysql")


@dataclass(frozen=True)
class ContractShop:
    backend: str
    server: LiveServer
    credentials: Credentials
    spec: dict[str, Any]
    objects: SeededObjects

    @property
    def schema_url(self) -> str:
        return self.server.base_url + OPENAPI_PATH


@pytest.fixture(scope="module", params=CONTRACT_BACKENDS)
def contract_shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ContractShop]:
    directory = tmp_path_factory.mktemp(f"contract-{request.param}")
    provider = DatabaseProvider(directory)
    url = provider.url_for(request.param)
    if url is None:
        missing_service(provider.missing_reason(request.param))
    try:
        server = start_shop(directory, url if request.param != "sqlite" else None)
        try:
            credentials = obtain_credentials(server.base_url)
            spec = ApiClient(server.base_url).expect(200, "GET", OPENAPI_PATH)
            objects = seed_objects(server.base_url, credentials)
            yield ContractShop(request.param, server, credentials, spec, objects)
        finally:
            server.stop()
    finally:
        provider.drop_all()
