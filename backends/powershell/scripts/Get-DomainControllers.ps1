param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    @(foreach ($dc in @(Get-ADDomainController -Filter *)) {
            [ordered]@{ hostName = $dc.HostName.ToLowerInvariant(); site = $dc.Site; writable = -not $dc.IsReadOnly }
        })
}
