# Replaces the whole list, as Set-ADServiceAccount does; callers read, modify and write.
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    $id = [guid][string]$p.objectGuid
    Set-ADServiceAccount -Identity $id -PrincipalsAllowedToRetrieveManagedPassword ([string[]]@($p.principals)) -Server $p.dc
    $account = Get-ADServiceAccount -Identity $id -Server $p.dc -Properties $RunbookServiceAccountProperties
    ConvertTo-RunbookServiceAccount $account $p.dc
}
