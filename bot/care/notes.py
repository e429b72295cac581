"""Care notes: after a person solves a problem they may leave a personal note ("asked about her mother's
surgery"); it is shown first at the customer's next contact (the next handoff's summary, the /customer card).
"""

from __future__ import annotations

from bot.care.staff_texts import staff_say
from storage.care import CareRepository
from storage.customers import CustomerRepository
from storage.handoffs import HandoffRepository, HandoffStatus
from storage.models import CareNote

MAX_NOTE_CHARS = 1000
NOTE_PREFIXES = ("note:", "note：", "备注:", "备注：", "关怀:", "关怀：")


class CareNoteError(ValueError):
    """Why a note was refused, for the agent."""


class CareNotes:
    def __init__(
        self, care: CareRepository, handoffs: HandoffRepository, customers: CustomerRepository, language: str = "en"
    ) -> None:
        self.care = care
        self.handoffs = handoffs
        self.customers = customers
        self.language = language

    def add(self, handoff_id: int, author: str, text: str) -> CareNote:
        """A note on a resolved handoff's customer; raises CareNoteError for an unknown or open handoff."""
        text = " ".join(text.replace("\x00", "").split())
        if not text:
            raise CareNoteError("the note is empty")
        if len(text) > MAX_NOTE_CHARS:
            raise CareNoteError(f"a care note holds at most {MAX_NOTE_CHARS} characters")
        handoff = self.handoffs.get(handoff_id)
        if handoff is None:
            raise CareNoteError(f"no handoff #{handoff_id}")
        if handoff.status != HandoffStatus.RESOLVED:
            raise CareNoteError(f"handoff #{handoff_id} is not resolved yet; care notes are added after solving")
        note = self.care.add_care_note(handoff.customer_id, handoff_id, author, text)
        self.customers.audit(author, "customer.care_note", f"customer:{handoff.customer_id}", {"note": note.id})
        return note

    def preface(self, customer_id: int) -> list[str]:
        """The lines a summary starts with: the customer's latest care note, if any."""
        note = self.care.latest_care_note(customer_id)
        if note is None:
            return []
        return [f"♥ {staff_say('care_note_label', self.language)} ({note.created_at:%Y-%m-%d}, {note.author}): "
                f"{note.text}"]  # fmt: skip

    @staticmethod
    def note_in(text: str) -> str | None:
        """The note in a Slack thread reply written as `note: ...`, or None for any other reply."""
        stripped = text.strip()
        for prefix in NOTE_PREFIXES:
            if stripped.lower().startswith(prefix):
                return stripped[len(prefix) :].strip()
        return None
