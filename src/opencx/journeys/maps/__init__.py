"""Journey maps, pain points and UX task metrics, computed in the analytics store."""

# The journey metrics use analytics' metric helpers, and analytics lists the journey metrics in
# METRICS: importing analytics first lets either module be imported first.
import opencx.analytics.metrics  # noqa: F401
