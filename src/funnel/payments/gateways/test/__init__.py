"""The ``test`` gateway, whole: the client the shop calls (``gateway``), the pretend service's
own records (``sandbox``) and the pages it hosts for a 3-D Secure check (``views``)."""
