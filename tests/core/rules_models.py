"""pandera models the rule tests import by path (``tests.core.rules_models.Orders``)."""

import pandera.pandas as pa
from pandera.typing import Series


class Orders(pa.DataFrameModel):
    """Amounts between 0 and 1000, known regions (other columns are not checked)."""

    amount: Series[float] = pa.Field(ge=0, le=1000)
    region: Series[str] = pa.Field(isin=["EU", "US", "APAC"])


class LooseOrders(pa.DataFrameModel):
    """What every row of the test file satisfies."""

    amount: Series[float] = pa.Field(ge=-10, le=5000)
    case_id: Series[str] = pa.Field(nullable=False)
