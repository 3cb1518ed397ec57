"""The Microsoft Graph dialect: OData query options, paging, the error envelope."""
