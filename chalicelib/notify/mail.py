"""E-mail to a shop's owner about its exchange — `exchange.failed` and `exchange.overdue` — for
owners with no webhook receiver: what happened, in Russian, in the shop's time zone, and where to
look. Pure: the letter; the sending is the Mailer port's (aws/mail.py on SES, a twin in memory)."""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.values import local_time

MAIL_EVENTS = ("exchange.failed", "exchange.overdue")
SCHEME = "mailto:"


class Mailer(Protocol):
    def send(self, sender: str, to: str, subject: str, text: str) -> None: ...


def letter(event: str, shop: str, data: dict[str, Any], zone: str) -> tuple[str, str]:
    """The subject and the text of an exchange notice."""
    if event == "exchange.failed":
        previous = data.get("previous") or {}
        return (
            f"{shop}: обмен с 1С не загрузился два раза подряд",
            f"Файл {data.get('file')} не загрузился: {data.get('error')}\n"
            f"Перед этим — {previous.get('file')}: {previous.get('error')}\n\n"
            "Сайт показывает прежний каталог. Строку файла с ошибкой и совет, что исправить в 1С, "
            "показывает консоль: «Обмены» → этот обмен.",
        )
    since = local_time(data.get("last_import_at"), zone) if data.get("last_import_at") else "никогда"
    return (
        f"{shop}: 1С давно не присылала каталог",
        f"Последний каталог пришёл: {since} ({zone}); ждём не дольше {data.get('overdue_hours')} ч.\n\n"
        "Проверьте в 1С, что обмен с сайтом включён и проходит без ошибок (журнал обмена), "
        "и что пароль обмена не меняли: «Подключение 1С» в консоли показывает отказы во входе.",
    )
