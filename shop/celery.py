import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(ignore_result=True)
def update_search_index() -> None:
    """Index products changed in the last hour (Oscar's browsing and search read the Whoosh index).

    Product saves do not write the index themselves: a Whoosh index is a set of files that
    one writer at a time may change, and a failed index write must never fail a product save.
    """
    from django.core.management import call_command

    call_command("update_index", age=1, verbosity=0)
