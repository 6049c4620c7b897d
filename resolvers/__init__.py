"""One function per root field or mutation: parse, open the unit of work, call one service."""
