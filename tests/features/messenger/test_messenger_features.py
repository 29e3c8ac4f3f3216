"""Steps for the Messenger features: Parley and a fake Graph API, on one virtual clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import redis
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import func, select

from channels.messenger.graph import ConversationPage, GraphClient
from channels.messenger.sync import PageSync
from chat.models import Contact, Conversation, Message
from tests.fakes.graph_api import FakeGraphApi
from tests.messenger.shop import Shop, open_shop

scenarios("messenger")

UNITS = {"hour": 3600.0, "hours": 3600.0, "day": 86400.0, "days": 86400.0}


@dataclass
class Story:
    """What the scenario has built so far."""

    shop: Shop
    people: dict[str, str] = field(default_factory=dict)  # first name -> PSID
    status: int = 0
    answer: Any = None
    sync_id: int = 0


@pytest.fixture
def story(
    redis_server: str, redis_client: redis.Redis, graph_api: FakeGraphApi, tmp_path: Path
) -> Iterator[Story]:
    # SQLite: pytest-bdd steps cannot be parametrized over databases; tests/messenger runs
    # the same behaviour on PostgreSQL too
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    with open_shop(graph_api, redis_server, url, tmp_path) as shop:
        yield Story(shop)


def seconds(amount: str, unit: str) -> float:
    return float(amount) * UNITS[unit]


def psid(story: Story, name: str) -> str:
    if name not in story.people:
        person = story.shop.graph.add_person(story.shop.page.id, None, name, "Silva")
        story.people[name] = person.psid
    return story.people[name]


def conversation_of(story: Story, name: str) -> Conversation:
    with story.shop.services.sessions() as session:
        query = select(Conversation).join(Contact).where(Contact.name.startswith(name))
        found = session.scalars(query).one()
        session.expunge(found)
        return found


def messages_of(story: Story, name: str) -> list[Message]:
    conversation = conversation_of(story, name)
    with story.shop.services.sessions() as session:
        query = select(Message).where(Message.conversation_id == conversation.id)
        return list(session.scalars(query.order_by(Message.id)))


def reply(story: Story, name: str, text: str, tag: str | None = None) -> None:
    body = {"text": text} | ({"tag": tag} if tag else {})
    response = story.shop.client.post(
        f"/conversations/{conversation_of(story, name).id}/messages",
        json=body,
        headers=story.shop.owner,
    )
    story.status, story.answer = response.status_code, response.get_json()
    story.shop.services.settle()


@given(parsers.parse('the Page "{name}" is connected to Parley'))
def page_connected(story: Story, name: str) -> None:
    assert story.shop.page.name == name


@given(parsers.parse('the deployment allows the message tags "{tags}"'))
def allowed_tags(story: Story, tags: str) -> None:
    settings = story.shop.services.settings
    allowed = tuple(tag.strip() for tag in tags.split(","))
    story.shop.services.settings = replace(
        settings, messenger=replace(settings.messenger, allowed_tags=allowed)
    )
    story.shop.graph.retired_tags.clear()  # a platform on which these tags still work


@given(parsers.parse('"{name}" wrote "{text}" {amount} {unit} ago'))
def wrote_ago(story: Story, name: str, text: str, amount: str, unit: str) -> None:
    writes(story, name, text)
    story.shop.advance(seconds(amount, unit))


TRIGGERS = {
    "when the visitor has not replied for 6 hours": "visitor_timeout:\n    after: 6h",
    "when a conversation starts": "conversation_started: {}",
}


@given("Meta will carry out the next send but answer too late")
def late_answer(story: Story) -> None:
    story.shop.graph.hold_seconds = 1.0
    settings = story.shop.services.settings
    messenger = replace(settings.messenger, graph_timeout=0.2)
    story.shop.services.settings = replace(settings, messenger=messenger)
    story.shop.graph.fail_next("messages", timeout=True)


@given(parsers.parse('a flow that says "{text}" {trigger}'))
def a_flow(story: Story, text: str, trigger: str) -> None:
    source = (
        f"id: a-flow\ntrigger:\n  {TRIGGERS[trigger]}\nstart: speak\n"
        f'steps:\n  speak:\n    say: "{text}"\n    end: true\n'
    )
    (story.shop.services.settings.flows_dir / "a-flow.yaml").write_text(source)
    assert not story.shop.services.reload_flows().failed(strict=True)


@given(parsers.parse("the Page has {count:d} conversations of {each:d} messages each"))
def seeded(story: Story, count: int, each: int) -> None:
    story.shop.graph.seed_conversations(story.shop.page.id, count, messages_each=each, spacing=5)


@when(
    parsers.parse('a webhook saying "{name}" wrote "{text}" arrives signed with the wrong secret')
)
def forged(story: Story, name: str, text: str) -> None:
    story.shop.graph.visitor_message(story.shop.page.id, psid(story, name), text=text)
    (request,) = story.shop.graph.take_webhooks()
    headers = {**request.headers, "X-Hub-Signature-256": "sha256=" + "ab" * 32}
    story.status = story.shop.post_webhook(request.body, headers)
    story.shop.services.settle()


@when(parsers.parse('"{name}" writes "{text}"'))
def writes(story: Story, name: str, text: str) -> None:
    story.shop.graph.visitor_message(story.shop.page.id, psid(story, name), text=text)
    story.shop.deliver()


@when("Meta delivers the same webhook twice more")
def redelivered(story: Story) -> None:
    request = story.shop.graph.deliveries[-1].request
    for _ in range(2):
        assert story.shop.post_webhook(request.body, request.headers) == 200
    story.shop.services.settle()


@when(parsers.parse('the agent replies "{text}" with the tag "{tag}"'))
def replies_with_tag(story: Story, text: str, tag: str) -> None:
    reply(story, next(iter(story.people)), text, tag)


@when(parsers.parse('the agent replies "{text}"'))
def replies(story: Story, text: str) -> None:
    reply(story, next(iter(story.people)), text)


@when("Meta sends back the echo of that reply")
def echo(story: Story) -> None:
    story.shop.deliver()


@when(parsers.parse('someone answers "{text}" from Meta\'s Page inbox'))
def page_inbox(story: Story, text: str) -> None:
    story.shop.graph.page_reply(story.shop.page.id, next(iter(story.people.values())), text)
    story.shop.deliver()


@when(parsers.parse("{amount} {unit} pass"))
def time_passes(story: Story, amount: str, unit: str) -> None:
    story.shop.advance(seconds(amount, unit))
    story.shop.services.settle()


@when(parsers.parse("the owner imports {what} Page's {scope} contacts"))
@when(parsers.parse("the owner imports all of the Page's contacts"))
def imports(story: Story, what: str = "the", scope: str = "all") -> None:
    answer = story.shop.api(
        "POST",
        f"/channels/messenger/pages/{story.shop.page.id}/syncs",
        {"scope": "recent" if scope == "recent" else "all"},
        status=202,
    )
    story.sync_id = answer["id"]


class WorkerDied(Exception):
    """A worker process killed while it imports a page."""


class DiesAfterFetching(GraphClient):
    def conversations(self, *args: Any, **kwargs: Any) -> ConversationPage:
        super().conversations(*args, **kwargs)
        raise WorkerDied


@when("a worker dies while importing the second page")
def worker_dies(story: Story) -> None:
    shop = story.shop
    assert PageSync(shop.services.sessions, shop.services.graph(), shop.services.now).run_once()
    shop.advance(1)
    with pytest.raises(WorkerDied):
        PageSync(
            shop.services.sessions, DiesAfterFetching(shop.graph.url), shop.services.now
        ).run_once()


@when("the import runs to the end")
def import_runs(story: Story) -> None:
    for _ in range(200):
        story.shop.services.settle()
        story.answer = story.shop.api("GET", f"/channels/messenger/syncs/{story.sync_id}")
        if story.answer["status"] in ("done", "failed"):
            return
        story.shop.advance(5)  # also lets a dead worker's lease run out
    raise AssertionError(f"the import did not end: {story.answer}")


@then(parsers.parse("Parley answers {status:d}"))
def answers(story: Story, status: int) -> None:
    assert story.status == status


@then("Parley has no contacts")
def no_contacts(story: Story) -> None:
    with story.shop.services.sessions() as session:
        assert session.scalars(select(func.count()).select_from(Contact)).one() == 0


@then(parsers.parse('there is a contact "{name}" with a Messenger conversation'))
def contact_with_conversation(story: Story, name: str) -> None:
    conversation = conversation_of(story, name)
    assert (conversation.channel, conversation.account) == ("messenger", story.shop.page.id)
    with story.shop.services.sessions() as session:
        assert session.get(Contact, conversation.contact_id).name == name  # type: ignore[union-attr]


@then(parsers.parse('the conversation with "{name}" has {count:d} visitor message'))
def visitor_messages(story: Story, name: str, count: int) -> None:
    assert conversation_of(story, name).visitor_message_count == count


@then(parsers.parse('the conversation with "{name}" has {count:d} message'))
def all_messages(story: Story, name: str, count: int) -> None:
    assert len(messages_of(story, name)) == count == conversation_of(story, name).message_count


@then(parsers.parse('the reply is marked "{delivery}"'))
def reply_marked(story: Story, delivery: str) -> None:
    with story.shop.services.sessions() as session:
        assert session.get(Message, story.answer["id"]).delivery == delivery  # type: ignore[union-attr]


@then(
    parsers.re(
        r'the conversation with "(?P<name>\w+)" has (?P<count>\d+) agent messages?, '
        r"(?P<off>none|\d+) of them off-platform"
    )
)
def agent_messages(story: Story, name: str, count: str, off: str) -> None:
    agents = [m for m in messages_of(story, name) if m.sender == "agent"]
    assert len(agents) == int(count) == conversation_of(story, name).agent_message_count
    assert sum(m.off_platform for m in agents) == (0 if off == "none" else int(off))


@then(
    parsers.parse('the first response time of the conversation with "{name}" is {value:d} seconds')
)
def first_response(story: Story, name: str, value: int) -> None:
    assert conversation_of(story, name).first_response_seconds == value


@then(parsers.parse('Messenger receives "{text}" sent as {how}'))
def received_as(story: Story, text: str, how: str) -> None:
    sent = story.shop.graph.sent[-1]
    assert story.status == 201, story.answer
    assert (sent.text, " ".join(filter(None, (sent.messaging_type, sent.tag)))) == (text, how)


@then(parsers.parse('Parley refuses the reply with "{code}", saying "{words}"'))
def refused(story: Story, code: str, words: str) -> None:
    assert story.status == 409  # the conversation's window, not the request, is the problem
    assert story.answer["error"]["code"] == code
    assert words in story.answer["error"]["message"]


@then("Messenger receives nothing")
def nothing_sent(story: Story) -> None:
    assert story.shop.graph.sent == []


@then(parsers.parse('Messenger received only "{text}"'))
def only_sent(story: Story, text: str) -> None:
    assert [sent.text for sent in story.shop.graph.sent] == [text]


@then(parsers.parse('the flow\'s "{text}" is recorded as skipped because "{reason}"'))
def skipped(story: Story, text: str, reason: str) -> None:
    bot = [m for m in messages_of(story, next(iter(story.people))) if m.sender == "bot"]
    assert [(m.text, m.delivery) for m in bot] == [(text, "skipped")]
    assert reason in (bot[0].delivery_error or "")


@then(parsers.parse('the import is "{status}" with {contacts:d} contacts and {count:d} messages'))
def import_result(story: Story, status: str, contacts: int, count: int) -> None:
    found = story.answer
    assert (found["status"], found["contacts_imported"], found["messages_imported"]) == (
        status,
        contacts,
        count,
    )


@then(parsers.parse("it fetched more than {pages:d} pages"))
def pages_fetched(story: Story, pages: int) -> None:
    assert story.answer["pages_fetched"] > pages


@then(parsers.parse("Parley holds {contacts:d} contacts and {count:d} messages"))
def holds(story: Story, contacts: int, count: int) -> None:
    with story.shop.services.sessions() as session:
        assert session.scalars(select(func.count()).select_from(Contact)).one() == contacts
        assert session.scalars(select(func.count()).select_from(Message)).one() == count


@then("no flow spoke to anyone")
def no_flow_spoke(story: Story) -> None:
    assert story.shop.graph.sent == []
