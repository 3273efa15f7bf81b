"""Business logic over the database, shared by the API, the web pages and the CLI.

Every function takes the caller's session and flushes at most: the edge commits.
"""
