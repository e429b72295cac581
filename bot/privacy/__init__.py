"""Customers' own data rights, in the chat: see, export and delete it, consent, no emotion analysis, who looked,
and the retention purge. `open_data_rights` builds the engine's privacy stage from the settings."""

from __future__ import annotations

from bot.business import BusinessFile
from bot.privacy.rules import PrivacyRules
from bot.privacy.stage import DataRights
from bot.settings import Settings
from bot.texts import Texts
from storage.customers import CustomerRepository
from storage.db import Database
from storage.privacy import PrivacyStore


def open_data_rights(settings: Settings, db: Database, business: BusinessFile, texts: Texts) -> DataRights:
    return DataRights(
        PrivacyStore(db),
        CustomerRepository(db),
        PrivacyRules.from_business(business),
        texts,
        public_url=settings.public_url,
    )


__all__ = ["DataRights", "PrivacyRules", "open_data_rights"]
