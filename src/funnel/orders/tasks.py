"""Order jobs. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat.

(The order emails' job, ``send_order_email``, lives beside its templates in ``emails.py``.)
"""

from __future__ import annotations

from celery import shared_task

from funnel.orders import services

CANCEL_OVERDUE_MANUAL_ORDERS = "funnel.orders.tasks.cancel_overdue_manual_orders"

BEAT_SCHEDULE = {
    "orders-cancel-overdue-manual-orders": {
        "task": CANCEL_OVERDUE_MANUAL_ORDERS,
        "schedule": 3600.0,  # seconds: hourly; the deadline is counted in days
    },
}


@shared_task(name=CANCEL_OVERDUE_MANUAL_ORDERS)
def cancel_overdue_manual_orders() -> int:
    """Cancel orders whose bank transfer is overdue; returns how many."""
    return services.cancel_overdue_manual_orders()
