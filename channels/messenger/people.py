"""Who and what is on a Page: Pages by id, contacts by PSID, messages by Messenger id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.models import ChannelIdentity, Contact, Message, MessengerPage


def find_page(session: Session, page_id: str) -> MessengerPage | None:
    """The connected Page with this id, if any."""
    return session.scalars(select(MessengerPage).where(MessengerPage.page_id == page_id)).first()


def find_message(session: Session, mid: str) -> Message | None:
    """The message stored with this Messenger message id, if any."""
    query = select(Message).where(Message.channel == "messenger", Message.channel_message_id == mid)
    return session.scalars(query).first()


def find_contact(session: Session, page_id: str, psid: str) -> Contact | None:
    """The contact who is `psid` on the Page, if Parley has met them."""
    identity = session.scalars(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == "messenger",
            ChannelIdentity.account == page_id,
            ChannelIdentity.external_id == psid,
        )
    ).first()
    return None if identity is None else identity.contact


def page_contact(
    session: Session, page: MessengerPage, psid: str, name: str | None, seen_at: datetime
) -> tuple[Contact, bool]:
    """The contact who is `psid` on `page`, created (with `name`, first seen at `seen_at`)
    if new; and whether new.

    A name learnt later fills in a contact that had none; an existing name is kept, as the
    Page's profile may lag behind what agents have seen.
    """
    contact = find_contact(session, page.page_id, psid)
    if contact is not None:
        if name and not contact.name:
            contact.name = name
        return contact, False
    contact = Contact(
        workspace_id=page.workspace_id,
        name=name or None,
        first_seen_at=seen_at,
        last_seen_at=seen_at,
    )
    contact.identities.append(
        ChannelIdentity(channel="messenger", account=page.page_id, external_id=psid)
    )
    session.add(contact)
    session.flush()
    return contact, True
