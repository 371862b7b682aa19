"""The books: what a school's books hold, the sync that pushes them, the export, the reconciliation,
and the connection of each school's own accounting system."""
