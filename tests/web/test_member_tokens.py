"""The owner issues and revokes members' API tokens, through the API and on the server."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient

from chat.db import make_engine, session_factory
from chat.members import authenticate, create_workspace
from cli import main


def _agent(client: FlaskClient, owner: dict[str, str]) -> tuple[int, dict[str, str]]:
    body = {"email": "ann@example.com", "name": "Ann", "role": "agent"}
    added = client.post("/members", json=body, headers=owner).get_json()
    return added["id"], {"Authorization": f"Bearer {added['api_token']}"}


def test_the_owner_issues_a_new_token_that_works_beside_the_old_one(
    client: FlaskClient, owner: dict[str, str]
) -> None:
    agent_id, old = _agent(client, owner)
    issued = client.post(f"/members/{agent_id}/tokens", headers=owner)
    assert issued.status_code == 201
    new = {"Authorization": f"Bearer {issued.get_json()['api_token']}"}
    assert client.get("/me", headers=new).get_json()["id"] == agent_id
    assert client.get("/me", headers=old).status_code == 200  # revocation is a step of its own
    listed = client.get(f"/members/{agent_id}/tokens", headers=owner).get_json()["tokens"]
    assert [t["prefix"] for t in listed][-1] == issued.get_json()["api_token"][:8]
    assert all("api_token" not in t for t in listed)


def test_the_owner_can_issue_a_token_for_themselves(
    client: FlaskClient, owner: dict[str, str]
) -> None:
    me = client.get("/me", headers=owner).get_json()["id"]
    issued = client.post(f"/members/{me}/tokens", headers=owner).get_json()
    again = {"Authorization": f"Bearer {issued['api_token']}"}
    assert client.get("/me", headers=again).get_json()["role"] == "owner"


def test_a_revoked_token_stops_working_at_once(client: FlaskClient, owner: dict[str, str]) -> None:
    agent_id, old = _agent(client, owner)
    (token,) = client.get(f"/members/{agent_id}/tokens", headers=owner).get_json()["tokens"]
    answer = client.delete(f"/members/{agent_id}/tokens/{token['id']}", headers=owner)
    assert answer.status_code == 204
    refused = client.get("/me", headers=old)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthenticated"


def test_only_the_owner_manages_tokens(client: FlaskClient, owner: dict[str, str]) -> None:
    agent_id, agent = _agent(client, owner)
    for answer in (
        client.post(f"/members/{agent_id}/tokens", headers=agent),
        client.get(f"/members/{agent_id}/tokens", headers=agent),
    ):
        assert answer.status_code == 403
        assert answer.get_json()["error"]["code"] == "forbidden"


def test_an_unknown_member_or_token_is_not_found(
    client: FlaskClient, owner: dict[str, str]
) -> None:
    agent_id, _ = _agent(client, owner)
    assert client.post("/members/999999/tokens", headers=owner).status_code == 404
    missing = client.delete(f"/members/{agent_id}/tokens/999999", headers=owner)
    assert (missing.status_code, missing.get_json()["error"]["field"]) == (404, "token_id")


def test_parley_members_token_issues_a_token_on_the_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    env = {"DATABASE_URL": url, "PARLEY_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    unknown = runner.invoke(main, ["members", "token", "olga@example.com"], env=env)
    assert (unknown.exit_code, unknown.output) == (
        1,
        "Error: no member has the email olga@example.com\n",
    )
    database = make_engine(url)
    with session_factory(database).begin() as session:
        create_workspace(session, "Acme", "olga@example.com", "Olga")
    result = runner.invoke(main, ["members", "token", "Olga@Example.com"], env=env)
    assert result.exit_code == 0, result.output
    token = result.output.splitlines()[-1]
    with session_factory(database)() as session:
        assert authenticate(session, token).email == "olga@example.com"
    database.dispose()
