"""The outbox dispatcher: the process (``zhenggai dispatcher``) that delivers the
notification outbox the workflows' activities write, by its channels (SMTP, webhooks),
with the texts and the case status they show. Not Temporal activities itself: it sits
under ``activities/`` because it is the other half of their "send notifications" side
effect (``activities.notifications`` shares its texts), and the worker may build it."""
