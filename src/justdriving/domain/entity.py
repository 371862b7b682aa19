"""Aggregates are equal when they are the same record: identity on the id, not on the fields."""

from __future__ import annotations


class Entity:
    id: str

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.id == self.id

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))
