"""Matching a row of a file to a person in the register without ever merging two people
(issue 19; privacy notice S7, S8).

Two people share a phone number (a landline at home) or an e-mail address (a daughter
using her mother's) often enough that neither identifies a person alone. A row found by
its e-mail or phone is therefore the same person only when the first names agree after
case and accent folding; when they do not, the row is a *conflict*: the customer in the
register is left as it is unless staff tick the row in the preview (the same person
after all), and otherwise the row is another person, a new customer.

A file's spelling of a name or an address that differs only in case or accents (a file
in ALL CAPS, all lower case, or without the Finnish letters) never overwrites the
register's, unless it is the better spelling (mixed case where the register has one
case only; the accents where the register has none).

Also used by the ban-list matching (customers/banlist.py): given names, street
addresses and postal codes compared the way a list provider writes them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

# The fields whose spelling (case, accents) the register keeps against a file's.
SPELLING_FIELDS = frozenset({"first_name", "last_name", "street_address", "city"})

Person = TypeVar("Person")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Text compared without case, accents or spacing: 'MÄKINEN' and 'makinen' fold alike."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.casefold().split())


def same_first_name(register: str, file: str) -> bool:
    """Whether two first names can be the same person's: equal after folding, or the
    same first given name ('Aino' and 'Aino Maria'). An empty name compares with any."""
    a, b = fold(register), fold(file)
    if not a or not b or a == b:
        return True
    return a.split()[0] == b.split()[0]


def _spelling(text: str) -> tuple[bool, int]:
    """How well a text is spelled, for texts that fold alike: in mixed case, then with
    more letters outside ASCII (the Finnish ä, ö, å kept)."""
    mixed = any(c.isupper() for c in text) and any(c.islower() for c in text)
    return mixed, sum(1 for c in text if ord(c) > 127 and c.isalpha())


def file_spelling_wins(register: str, file: str) -> bool:
    """Whether a file's value replaces the register's: always when it is another value,
    and, when the two differ only in case or accents, only when the file's is the better
    spelling (so 'AINO' never replaces 'Aino', but 'Aino' replaces 'AINO')."""
    register, file = register or "", file or ""
    if register == file or fold(register) != fold(file):
        return True
    return _spelling(file) > _spelling(register)


@dataclass
class Found(Generic[Person]):
    """What a row's keys found: the person it is (or None: nobody, a new person), and the
    person in the register it would have been matched to but whose first name differs."""

    person: Person | None = None
    conflict: Person | None = None
    shared: str = ""  # the kind of key shared with the conflicting person: "email", "phone" or "name"


@dataclass
class PeopleByKey(Generic[Person]):
    """The people a file may match, by key (("email", ...), ("phone", ...), ("name", ...)),
    each key's people oldest first. `first_name` reads a person's first name now;
    `in_register` tells a customer already saved from one this file creates."""

    first_name: Callable[[Person], str]
    in_register: Callable[[Person], bool]
    email: Callable[[Person], str] = lambda person: ""
    people: dict[tuple, list[Person]] = field(default_factory=dict)

    def add(self, keys: Iterable[tuple], person: Person) -> None:
        for key in keys:
            listed = self.people.setdefault(key, [])
            if not any(p is person for p in listed):
                listed.append(person)

    def find(self, keys: Iterable[tuple], first_name: str, email: str = "") -> Found[Person]:
        """The first person, key by key in order and oldest first, whose first name agrees
        with the row's; else the first person in the register by e-mail or phone whose
        does not (a conflict). Found by name and postal code, a person whose e-mail is
        another than the row's is someone else of the same name (Urho Vuorila and Urho
        Vuorilä in 20100): a conflict too when in the register, else nobody."""
        found: Found[Person] = Found()
        for key in keys:
            for person in self.people.get(key, ()):
                if key[0] == "name":
                    theirs = self.email(person)
                    if not (email and theirs and email.casefold() != theirs.casefold()):
                        found.person = person
                        return found
                    if found.conflict is None and self.in_register(person):
                        found.conflict, found.shared = person, "name"
                    continue
                if same_first_name(self.first_name(person), first_name):
                    found.person = person
                    return found
                if found.conflict is None and self.in_register(person):
                    found.conflict, found.shared = person, key[0]
        return found


# -- ban lists ------------------------------------------------------------------------
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def street_key(text: str) -> str:
    """A street address compared as a list provider may write it: 'Kuusitie 5 C29' and
    'KUUSITIE 5 C 29', 'Koivukuja 3 as. 4' and 'Koivukuja 3 as 4' are the same."""
    text = fold(text).replace(".", " ").replace(",", " ")
    return " ".join(_LETTER_DIGIT.sub(" ", text).split())


def postal_code_key(text: str) -> str:
    """A Finnish postal code with the zeros a spreadsheet dropped (100 for 00100) restored."""
    text = (text or "").strip()
    return text.zfill(5) if text.isdigit() and len(text) < 5 else text


def given_name_matches(given_names: str, first_name: str) -> bool:
    """Whether any of a list's given names ('OLAVI JUHANI') is the customer's first name
    ('Juhani'), or one of the customer's first names."""
    listed = set(fold(given_names).split())
    own = fold(first_name)
    return bool(own) and (own in listed or bool(listed & set(own.split())))


@dataclass
class Conflict:
    """A row found by e-mail or phone whose first name differs from the customer's: the
    customer as the register holds it, what the two share, and whether staff ticked the
    row as the same person (then it updates the customer; else it is a new customer)."""

    customer_id: int
    shared: str
    register: dict[str, str]
    same_person: bool = False
