"""What the care pages show, stored the way relationship care stores it: account-manager alerts (two negative
conversations in a month, negative messages in a row), a churn warning, a WeChat follow-up the window would not
carry turned into a task, and pending follow-up jobs. Shared by the page tests and the screenshot script."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.care.followups import CHECKIN, COMPLAINT, TASK_TITLES
from bot.care.staff_texts import staff_message, staff_say
from storage.models import Customer, utcnow


@dataclass(frozen=True)
class Seeded:
    managed: int  # a customer whose account manager is aggie
    unmanaged: int  # one without: the care team gets their notices
    task_id: int
    checkin_job: int
    complaint_job: int


def seed_care(runtime, manager: str = "aggie") -> Seeded:
    care = runtime.care
    with runtime.db.session() as session:
        wang = Customer(display_name="王芳", account_manager=manager, tier="vip")
        lee = Customer(display_name="Lee Morgan")
        session.add_all([wang, lee])
        session.flush()
        managed, unmanaged = wang.id, lee.id
    alerts = care.alerts
    alerts.tell(managed, "alert", f"alert:seed-{managed}", "alert", reason="2 negative conversations within 30 days")
    alerts.tell(managed, "at_risk", f"at-risk:seed-{managed}", "at_risk", conversation=41)
    alerts.tell(unmanaged, "at_risk", f"at-risk:seed-{unmanaged}", "at_risk", conversation=42)
    alerts.churn_risk([managed], 90)
    message = "上次的问题都解决了吧？有任何需要随时告诉我们。"
    why = {"why": "task_why.window_closed", "error": "", "text": message}  # as the follow-up rules store it
    task, _ = care.repository.add_task(
        kind=CHECKIN,
        title=TASK_TITLES[CHECKIN],
        due_at=utcnow() - timedelta(hours=2),
        customer_id=managed,
        detail=staff_say("task_detail", "en", **why),
        assignee=manager,
        dedup_key=f"task:seed-{managed}",
        message=staff_message("task_detail", **why),
    )
    alerts.task_created(task.id)
    now = utcnow()
    checkin, _ = care.jobs.schedule(
        CHECKIN, now + timedelta(days=14), {"handoff_id": 7}, customer_id=unmanaged, dedup_key=f"seed-c-{unmanaged}"
    )
    complaint, _ = care.jobs.schedule(
        COMPLAINT, now + timedelta(hours=24), {"handoff_id": 8}, customer_id=managed, dedup_key=f"seed-x-{managed}"
    )
    return Seeded(managed, unmanaged, task.id, checkin, complaint)
