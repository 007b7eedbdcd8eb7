"""Serve a scikit-learn model with micro-batching (docs/model-serving.md).

Run: `trivium run examples.model_serving.app:app`, then
`curl -X POST localhost:8000/predict -H 'content-type: application/json'
-d '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}'`.
"""

from __future__ import annotations

from pydantic import BaseModel
from pydantic import Field

from examples.model_serving.model import predict
from examples.model_serving.model import train
from trivium import App
from trivium.ai import Model
from trivium.ai import batched

# Trained once per worker at start-up; predictions run on the model's thread.
model = Model(train, executor="thread")
app = App(title="Iris classifier", plugins=[model])


class Flower(BaseModel):
    sepal_length: float = Field(gt=0, lt=100)
    sepal_width: float = Field(gt=0, lt=100)
    petal_length: float = Field(gt=0, lt=100)
    petal_width: float = Field(gt=0, lt=100)

    def row(self) -> list[float]:
        return [self.sepal_length, self.sepal_width, self.petal_length, self.petal_width]


class Prediction(BaseModel):
    species: str


@batched(max_size=32, max_wait_ms=5)
async def classify(rows: list[list[float]]) -> list[str]:
    """Up to 32 concurrent requests' flowers in one model call."""
    return await model.run(predict, rows)


@app.post("/predict")
async def predict_flower(flower: Flower) -> Prediction:
    """Classify one flower; concurrent requests are batched together."""
    return Prediction(species=await classify(flower.row()))


@app.post("/predict/unbatched")
async def predict_alone(flower: Flower) -> Prediction:
    """The same, one model call per request (for comparison)."""
    (species,) = await model.run(predict, [flower.row()])
    return Prediction(species=species)
