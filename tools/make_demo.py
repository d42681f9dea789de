"""Rebuild the embedded Chicago demo (rtm_core/data/chicago_demo.gpkg) from ../shared/data.

Run once by a maintainer: ``.venv/bin/python tools/make_demo.py [SOURCE_DIR]``.
The shapefiles' .prj is a custom Transverse Mercator equal to EPSG:26971 (NAD83 / Illinois East,
metres); pyproj does not recognise it, so the CRS is set explicitly. Points are rounded to 1 cm,
attribute columns dropped (the burglary points carry only an FID), polygons simplified at 1 m.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import shapely

SOURCE = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/chicago_burglary_2017_2018")
TARGET = Path(__file__).resolve().parents[1] / "rtm_core" / "data" / "chicago_demo.gpkg"

LAYERS = {
    "boundary": ("Chicago_Boundary/chicagoBoundary.shp", []),
    "burglary_2017": ("burglaries17/burglaries17.shp", []),
    "burglary_2018": ("burglaries18/burglaries18.shp", []),
    "liquor_retail": ("liquor_retail/liquor_retail.shp", []),
    "abandoned_buildings": ("abandoned_buildings/abandoned_buildings.shp", []),
    "abandoned_cars": ("abandoned_cars/abandoned_cars.shp", []),
    "graffiti": ("graffiti/graffiti.shp", []),
    "sanitation": ("sanitation/sanitation.shp", []),
    "street_light_outages": ("street_light_outages/street_light_outages.shp", []),
    "neighborhoods": ("Chicago_Neighborhoods/Chicago_Neighborhoods.shp", ["name"]),
    "police_districts": ("Police_Districts/Police_Districts.shp", ["District"]),
}


def main() -> None:
    TARGET.unlink(missing_ok=True)
    for layer, (path, keep) in LAYERS.items():
        frame = gpd.read_file(SOURCE / path).set_crs(26971, allow_override=True)
        geometry = frame.geometry
        if (geometry.geom_type == "Point").all():
            geometry = gpd.GeoSeries(shapely.set_precision(geometry.values, 0.01), crs=26971)
        else:
            geometry = geometry.simplify(1.0)
        out = gpd.GeoDataFrame(frame[keep].copy(), geometry=geometry.values, crs=26971)
        out.to_file(TARGET, layer=layer, driver="GPKG", SPATIAL_INDEX="NO")
        print(f"{layer}: {len(out)} rows")
    print(f"{TARGET}: {TARGET.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
