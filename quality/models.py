"""pandera models the project's rules name (`model: quality.models.OrderEvents`)."""

import pandera.pandas as pa
from pandera.typing import Series


class OrderEvents(pa.DataFrameModel):
    """One event of the order-to-cash process (other columns are not checked)."""

    case_id: Series[str] = pa.Field(str_matches=r"^O-[0-9]{5}$")
    amount: Series[float] = pa.Field(ge=0, nullable=True)
