import LightCore
