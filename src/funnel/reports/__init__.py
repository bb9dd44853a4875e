"""Reports: what the shop's own records say about its sales, for the owner.

At the top of the layers beside ``staff`` (whose pages and API show them), reading orders, the
catalogue and analytics and writing nothing. The first report is the sales funnel
(``queries.funnel_report``): how many visitors reached each stage over whole shop days, in the
shop's time zone, against the period before.
"""
