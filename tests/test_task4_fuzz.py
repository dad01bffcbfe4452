"""Задание 4, враждебный ввод (hypothesis): случайные строки и объекты JIM
окончательному серверу.

Один общий сервер на модуль; каждый пример — своё соединение: представиться,
послать строку, затем контрольный запрос `rooms`. Свойства:

* на строку приходит ответ с кодом из протокола (не 500 — это была бы ошибка в
  самом сервере) или сервер закрывает соединение, как обещано (quit; строка
  длиннее 4096 байт — 400 и разрыв);
* после этого сервер обслуживает других как ни в чём не бывало;
* в журнале сервера нет трассировок.

Долгий прогон: `python -m pytest tests/test_task4_fuzz.py --hypothesis-profile=fuzz`.
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import start_server
from test_task4_server import Raw, close_raw_sockets, presence, request  # noqa: F401

MAX_LINE_BYTES = 4096
# Коды, которыми сервер отвечает на запросы (таблица протокола на странице задания).
PROTOCOL_CODES = {200, 202, 400, 401, 403, 404, 409, 503}
ACTIONS = ["presence", "msg", "join", "leave", "users", "rooms", "quit", "probe", "x"]
names = (f"fuzz{number}" for number in itertools.count())

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
# Объекты, похожие на запросы JIM: настоящее или выдуманное действие и поля
# любых типов — так достаётся и обработчикам, а не только разбору строки.
jim_objects = st.fixed_dictionaries(
    {"action": st.sampled_from(ACTIONS) | st.text(max_size=10)},
    optional={
        "time": json_values,
        "to": st.sampled_from(["#general", "#a", "fuzz0", ""]) | json_values,
        "room": st.sampled_from(["#general", "#a", "#" + "я" * 30]) | json_values,
        "message": st.text(max_size=600) | json_values,
        "user": st.fixed_dictionaries({"account_name": st.text(max_size=30)})
        | json_values,
    },
)


@pytest.fixture(scope="module")
def shared_server(module_launch):
    return start_server(module_launch, "task4")


def send_and_check_still_serving(port: int, line: bytes) -> None:
    raw = Raw(port, next(names))
    raw.send(line + b"\n")
    raw.send(request("rooms"))  # контрольный запрос: ответ на него — конец ответов
    closing = len(line) > MAX_LINE_BYTES
    while (text := raw.line()) is not None:
        message = json.loads(text)
        if "rooms" in message:
            assert not closing, "строка длиннее предела, а соединение живо"
            break
        code = message.get("response")
        assert code is None or code == 100 or code in PROTOCOL_CODES, message
    # Сервер жив и отвечает другим.
    witness = Raw(port, next(names))
    assert witness.ask(request("users", room="#general"))["response"] == 200
    raw.close()
    witness.close()


@pytest.mark.fuzz
@given(line=st.binary(max_size=2 * MAX_LINE_BYTES).map(lambda b: b.replace(b"\n", b"")))
def test_property_random_bytes(shared_server, line):
    send_and_check_still_serving(shared_server.port, line)
    assert "Traceback" not in shared_server.stderr


@pytest.mark.fuzz
@given(value=json_values)
def test_property_random_json(shared_server, value):
    line = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    send_and_check_still_serving(shared_server.port, line)
    assert "Traceback" not in shared_server.stderr


@pytest.mark.fuzz
@given(message=jim_objects)
def test_property_jim_objects(shared_server, message):
    line = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
    send_and_check_still_serving(shared_server.port, line)
    assert "Traceback" not in shared_server.stderr
    assert "сбой при обработке запроса" not in shared_server.stderr
