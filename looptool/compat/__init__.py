"""The one place where looptool uses private interfaces of upstream libraries, one module per library.

Each private use is a small function with a comment naming the versions it was checked against and why no
public interface serves, so an upgrade of that library is checked here and nowhere else.
"""
