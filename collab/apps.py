from django.apps import AppConfig


class CollabConfig(AppConfig):
    name = "collab"
    verbose_name = "Collaboration platform"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from collab.accounts.sessions import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="collab.record_session")
