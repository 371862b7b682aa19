"""Who is on the platform, read only: its schools and a school's students.

What the CLI's `schools show`, `justdriving demo` and `justdriving run` read, so that no
entrypoint opens a unit of work itself.
"""

from __future__ import annotations

from justdriving.domain.people import Student
from justdriving.domain.schools import School
from justdriving.ports.persistence import UnitOfWorkFactory


class Directory:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def school(self, school_id: str) -> School:
        """The school; NotFound when there is none of that id."""
        with self._uow() as uow:
            return uow.schools.get(school_id)

    def school_named(self, name: str) -> School | None:
        """The first school of exactly that name, if any."""
        with self._uow() as uow:
            return next((s for s in uow.schools.list() if s.name == name), None)

    def students(self, school_id: str) -> list[Student]:
        """The school's students; NotFound for a school that does not exist."""
        with self._uow() as uow:
            uow.schools.get(school_id)
            return list(uow.students.for_school(school_id))
