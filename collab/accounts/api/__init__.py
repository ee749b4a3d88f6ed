"""The account routers: `/api/auth/...` (several routers, one prefix) and `/api/users/...`."""

from collab.accounts.api import auth, passwords, profile, sessions

AUTH_ROUTERS = (auth.router, profile.router, passwords.router, sessions.router)
USERS_ROUTER = profile.users_router

__all__ = ["AUTH_ROUTERS", "USERS_ROUTER"]
